"""The application factory: services built in the lifespan, routes mounted per tenant."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from phoneauth import __version__
from phoneauth.connectors import ConnectorRegistry, load_registry
from phoneauth.domain.verification_codes import run_retention
from phoneauth.errors import DatabaseUnavailableError
from phoneauth.settings import Settings
from phoneauth.web.account import router as account_router
from phoneauth.web.console import install_console
from phoneauth.web.end_users import oidc_router
from phoneauth.web.errors import install_error_handlers
from phoneauth.web.experience import experience_router
from phoneauth.web.hot_routes import PhoneauthApp
from phoneauth.web.management import HOT_ROUTERS, management_router
from phoneauth.web.management import RESPONSES as MANAGEMENT_RESPONSES
from phoneauth.web.openapi import install_openapi
from phoneauth.web.pages import STATIC_DIR
from phoneauth.web.pages import router as pages_router
from phoneauth.web.phone_input import phone_format_router
from phoneauth.web.well_known import well_known_router
from phoneauth.wiring import Services, build_services


async def tenant_path(
    tenant_id: Annotated[str, Path(description="The tenant; `default` is also served at /api.")],
) -> str:
    """Declares `{tenant_id}` so the OpenAPI document lists it on every tenant route."""
    return tenant_id


def create_app(
    settings: Settings, registry: ConnectorRegistry | None = None, *, serving: bool = False
) -> FastAPI:
    """A new app; tests build one each, with their own settings.

    `serving` (the process exists to serve this one app, as `phoneauth serve`): once started,
    everything built so far is frozen out of the garbage collector. Its full collections walked
    the whole app (routes, schemas, numbering plans) and stopped every request for 50 to 130 ms
    (`make bench`, p99). Not for tests, which build many apps in one process.
    """
    connectors = registry if registry is not None else load_registry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings, connectors)
        app.state.services = services
        retention = asyncio.create_task(run_retention(services.codes), name="phoneauth-retention")
        if serving:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            retention.cancel()
            with suppress(asyncio.CancelledError):
                await retention
            await services.close()

    app = PhoneauthApp(title="phoneauth", version=__version__, lifespan=lifespan)
    install_error_handlers(app)
    install_openapi(app)
    for hot in HOT_ROUTERS:
        app.add_hot_routes(hot, "/api")  # served ahead of FastAPI's router (`hot_routes`)
        app.include_router(hot, prefix="/api", responses=MANAGEMENT_RESPONSES)
        app.include_router(
            hot,
            prefix="/t/{tenant_id}/api",
            responses=MANAGEMENT_RESPONSES,
            dependencies=[Depends(tenant_path)],
        )
    app.include_router(management_router(), prefix="/api")
    app.include_router(
        management_router(), prefix="/t/{tenant_id}/api", dependencies=[Depends(tenant_path)]
    )

    app.include_router(well_known_router, prefix="/api")
    app.include_router(
        well_known_router, prefix="/t/{tenant_id}/api", dependencies=[Depends(tenant_path)]
    )

    app.include_router(account_router, prefix="/api")
    app.include_router(
        account_router, prefix="/t/{tenant_id}/api", dependencies=[Depends(tenant_path)]
    )

    app.include_router(experience_router(), prefix="/api")
    app.include_router(
        experience_router(), prefix="/t/{tenant_id}/api", dependencies=[Depends(tenant_path)]
    )

    app.include_router(phone_format_router, prefix="/api")
    app.include_router(
        phone_format_router, prefix="/t/{tenant_id}/api", dependencies=[Depends(tenant_path)]
    )

    # The end-user pages: HTML, so not in the OpenAPI document.
    app.include_router(pages_router, include_in_schema=False)
    app.include_router(
        pages_router,
        prefix="/t/{tenant_id}",
        dependencies=[Depends(tenant_path)],
        include_in_schema=False,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    install_console(app)
    app.include_router(oidc_router)
    app.include_router(oidc_router, prefix="/t/{tenant_id}", dependencies=[Depends(tenant_path)])

    app.add_api_route(
        "/health",
        health,
        methods=["GET"],
        tags=["health"],
        response_model=Health,
        responses={503: {"model": HealthUnavailable, "description": "The database is down."}},
    )
    return app


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    version: str


class HealthUnavailable(BaseModel):
    status: Literal["unavailable"]
    database: Literal["unavailable"]


async def health(request: Request) -> Health | JSONResponse:
    """200 while the database answers a round trip; 503 naming it while it cannot be reached
    (a load balancer takes the instance out of rotation until it is back)."""
    services: Services = request.app.state.services
    try:
        await services.database.ping()
    except DatabaseUnavailableError as error:
        down = HealthUnavailable(status="unavailable", database="unavailable")
        headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(down.model_dump(), status_code=503, headers=headers)
    return Health(status="ok", database="ok", version=__version__)
