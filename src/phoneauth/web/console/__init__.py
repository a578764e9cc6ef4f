"""The console at /console: server-rendered pages over the same domain services as the API."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse

from phoneauth.web.console import (
    applications,
    auth,
    connectors,
    delivery,
    message_log,
    protection,
    sign_in_experience,
    tenants,
)
from phoneauth.web.console.support import PREFIX, ConsoleRoute, error_page


def console_router() -> APIRouter:
    router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
    for module in (
        auth,
        connectors,
        sign_in_experience,
        delivery,
        protection,
        message_log,
        applications,
        tenants,
    ):
        router.include_router(module.router, prefix=PREFIX)

    @router.api_route(PREFIX + "/{rest:path}", methods=["GET", "POST"])
    async def not_found(request: Request, rest: str) -> HTMLResponse:
        return error_page(request, 404, "Not found", "The console has no page at this address.")

    return router


def install_console(app: FastAPI, *, max_body_size: int | None = None) -> None:
    """`max_body_size`: the console's forms (templates, tenant imports) may outgrow the API's."""
    app.include_router(console_router(), max_body_size=max_body_size)
