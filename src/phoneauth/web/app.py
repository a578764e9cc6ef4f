"""The application factory: services built in the lifespan, routes mounted per tenant."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse

from phoneauth import __version__
from phoneauth.connectors import ConnectorRegistry, load_registry
from phoneauth.domain.code_retention import run_retention
from phoneauth.domain.delivery_polling import run_delivery_polling
from phoneauth.domain.interaction_cleanup import run_interaction_cleanup
from phoneauth.domain.metrics import NO_METRICS
from phoneauth.domain.passwords import decoy_hash
from phoneauth.settings import Settings
from phoneauth.web.account import router as account_router
from phoneauth.web.api_docs import install_api_docs
from phoneauth.web.body_limit import BodyLimits, DeclaredBodyLimitMiddleware
from phoneauth.web.console import install_console
from phoneauth.web.errors import install_error_handlers
from phoneauth.web.experience import ROUTERS as EXPERIENCE_ROUTERS
from phoneauth.web.favicon import favicon_router
from phoneauth.web.head_requests import HeadAsGetMiddleware
from phoneauth.web.management import CODE_ROUTERS, management_router
from phoneauth.web.management import RESPONSES as MANAGEMENT_RESPONSES
from phoneauth.web.metrics import metrics_router
from phoneauth.web.oidc import router as oidc_router
from phoneauth.web.openapi import install_openapi
from phoneauth.web.pages import router as pages_router
from phoneauth.web.pages import warm_up as warm_up_pages
from phoneauth.web.phone_input import phone_format_router
from phoneauth.web.request_scope import RequestScopeMiddleware
from phoneauth.web.static_assets import STATIC_ASSETS, STATIC_URL
from phoneauth.web.well_known import well_known_router
from phoneauth.wiring import Services, build_services


async def tenant_path(
    tenant_id: Annotated[str, Path(description="The tenant; `default` is also served at /api.")],
) -> str:
    """Declares `{tenant_id}` so the OpenAPI document lists it on every tenant route."""
    return tenant_id


# `200 {"status": "ok", ...}`; `200 {"status": "degraded", "redis": "degraded", ...}` while Redis
# is unreachable (every instance would fail the probe at once, yet each still serves, counting
# rate limits in its own memory); `503 {"status": "unavailable", ...}` naming the dependency
# without which nothing works (`database`). Module level, reading the app from the request:
# FastAPI caches keyed by endpoint function live as long as the process, and would keep a
# closure's app alive.
async def health(request: Request) -> JSONResponse:
    services: Services = request.app.state.services
    dependencies = await services.dependency_status()
    states = set(dependencies.values())
    # Open circuits are a provider's trouble, not this instance's: reported, never a 503.
    # Counts only: this answer is public, so it names no tenant and no connector.
    circuits = services.delivery_routing.router.breakers.counts()
    if "unavailable" in states:
        body = {
            "status": "unavailable",
            **dependencies,
            "smsCircuits": circuits,
            "version": __version__,
        }
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    status = "degraded" if "degraded" in states else "ok"
    body = {"status": status, **dependencies, "smsCircuits": circuits, "version": __version__}
    return JSONResponse(body)


@dataclass(frozen=True)
class MountedRouter:
    """One API router as the app includes it: at `prefix`, and again per tenant."""

    router: APIRouter
    prefix: str
    rank: int  # matching order: lower is tried first
    per_tenant: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        if not self.per_tenant:
            return {"prefix": self.prefix, **self.extra}
        return {
            "prefix": "/t/{tenant_id}" + self.prefix,
            "dependencies": [Depends(tenant_path)],
            **self.extra,
        }


def api_routers() -> list[MountedRouter]:
    """Every router of the API, in the order the OpenAPI document lists them; `rank` is the
    order they are tried in (the sign-in paths first).

    The Experience API's routers are included one by one, not as one router: FastAPI walks
    every level of included routers to match a request, twice (to find the route, then to
    run it), and one level less cost each Experience request more than its cookie check."""
    codes = {"responses": MANAGEMENT_RESPONSES}
    table: list[tuple[Sequence[APIRouter], str, int, dict[str, Any]]] = [
        (CODE_ROUTERS, "/api", 0, codes),
        ((management_router(),), "/api", 8, {}),
        ((well_known_router,), "/api", 5, {}),
        ((account_router,), "/api", 6, {}),
        (EXPERIENCE_ROUTERS, "/api", 1, {}),
        ((phone_format_router,), "/api", 4, {}),
        ((oidc_router,), "", 3, {}),
    ]
    mounted = [
        MountedRouter(router, prefix, rank, per_tenant, extra)
        for routers, prefix, rank, extra in table
        for per_tenant in (False, True)
        for router in routers
    ]
    return [*mounted, MountedRouter(health_router, "", 7), MountedRouter(metrics_router, "", 9)]


PAGES_RANK = 2  # the sign-in pages: after the API they call, before the rest


def page_routers() -> list[MountedRouter]:
    """The end-user pages (HTML, not in the OpenAPI document), at / and per tenant."""
    hidden = {"include_in_schema": False}
    return [
        MountedRouter(pages_router, "", PAGES_RANK, per_tenant, hidden)
        for per_tenant in (False, True)
    ]


def in_matching_order(mounted: Sequence[MountedRouter]) -> list[MountedRouter]:
    """FastAPI tries routes in the order they were included, walking every route of every
    included router on the way (about 1 µs each): the routes every sign-in takes come first
    (codes, the Experience API, the pages, OIDC), the Management API after them, and every
    tenant copy after all of those. At the end of the table a page cost ~250 µs of matching."""
    return sorted(mounted, key=lambda mount: (mount.per_tenant, mount.rank))


health_router = APIRouter()
health_router.add_api_route(
    "/health", health, methods=["GET"], tags=["health"], response_model=dict[str, Any]
)

YOUNG_COLLECTION = 10_000  # new objects between two collections of the youngest generation


def create_app(
    settings: Settings, registry: ConnectorRegistry | None = None, *, serving: bool = False
) -> FastAPI:
    """A new app; tests build one each, with their own settings.

    `serving` (the process exists to serve this one app, as `phoneauth serve`): once started,
    the pages are made ready (`pages.warm_up`: the first visitor waited ~200 ms for them, and
    every request behind it too) and everything built so far is frozen out of the garbage
    collector. Its full collections walked the whole app (routes, schemas, numbering plans) and
    stopped every request for 50 to 130 ms (`make bench`, p99). The youngest generation is then
    collected after `YOUNG_COLLECTION` new objects instead of Python's 700: at 700 it ran every
    thirty or so requests and took about 0.6 ms each time, 2-3 % of the CPU of an Experience
    send-code (timed with `gc.callbacks`); at 10,000 the collector's total falls by six
    sevenths, and the rare cycle it frees waits a few milliseconds longer. Not for tests, which
    build many apps in one process.
    """
    connectors = registry if registry is not None else load_registry()
    exporter = None
    if settings.metrics_token is not None:
        # Imported only when metrics are on: a server without them loads no metrics library.
        from phoneauth.metrics import PrometheusMetrics

        exporter = PrometheusMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(
            settings, connectors, metrics=NO_METRICS if exporter is None else exporter
        )
        app.state.services = services
        retention = asyncio.create_task(
            run_retention(services.codes, oidc=services.oidc_store), name="phoneauth-retention"
        )
        polling = asyncio.create_task(
            run_delivery_polling(services.delivery_polling), name="phoneauth-delivery-polling"
        )
        cleanup = asyncio.create_task(
            run_interaction_cleanup(services.interactions, services.tenants.store),
            name="phoneauth-interaction-cleanup",
        )
        if serving:
            warm_up_pages()
            # Made now, not by the first sign-in with an unknown name: that one would take
            # longer than a wrong password does, and so tell that the name is unknown.
            await asyncio.to_thread(decoy_hash)
            gc.collect()
            gc.freeze()
            gc.set_threshold(YOUNG_COLLECTION)
        try:
            yield
        finally:
            for task in (retention, polling, cleanup):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await services.close()
            if exporter is not None:
                exporter.close()

    app = FastAPI(
        title="phoneauth", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    install_error_handlers(app)
    # Innermost: everything outside it (body limits, metrics) sees HEAD as it came.
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(RequestScopeMiddleware)
    # A body is refused (413) once its declared or counted size passes the limit, never read
    # whole first; the console's forms get a larger limit. Set per router, not on the app: see
    # `phoneauth.web.body_limit`.
    limits = BodyLimits(api=settings.max_body_bytes, console=settings.max_form_bytes)
    app.add_middleware(DeclaredBodyLimitMiddleware, limits=limits)
    app.state.metrics = exporter
    if exporter is not None:
        # Outermost of ours: a request refused before routing (413) is counted and timed too.
        from phoneauth.web.http_metrics import HttpMetricsMiddleware

        app.add_middleware(HttpMetricsMiddleware, metrics=exporter)
    mounted = api_routers()
    install_openapi(app, documented=mounted)
    # The OpenAPI document keeps its own order (`api_routers`); the pages' files follow them.
    pages = page_routers()
    for mount in in_matching_order([*mounted, *pages]):
        app.include_router(mount.router, max_body_size=limits.api, **mount.options())
        if mount is pages[0]:
            app.mount(STATIC_URL, STATIC_ASSETS, name="static")
    app.include_router(favicon_router)
    install_console(app, max_body_size=limits.console)
    install_api_docs(app)  # last: no request of the API walks past its routes first
    return app
