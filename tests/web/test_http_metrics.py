"""The HTTP middleware on small apps of its own: templates of every shape, and a request whose
app raised is counted as the 500 the client gets."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.staticfiles import StaticFiles

from phoneauth.metrics import PrometheusMetrics
from phoneauth.web.http_metrics import UNMATCHED, HttpMetricsMiddleware


def counted(metrics: PrometheusMetrics) -> dict[tuple[str, str, str], float]:
    body, _ = metrics.exposition(None)
    found = {}
    for line in body.decode().splitlines():
        if line.startswith("phoneauth_http_requests_total{"):
            labels, value = line.removeprefix("phoneauth_http_requests_total").rsplit(" ", 1)
            pairs = dict(pair.split("=", 1) for pair in labels.strip("{}").split('",'))
            clean = {key: value.strip('"') for key, value in pairs.items()}
            found[(clean["method"], clean["route"], clean["status"])] = float(value)
    return found


def small_app(metrics: PrometheusMetrics, static: str) -> FastAPI:
    router = APIRouter()

    @router.get("/files/{file_path:path}")
    async def files(file_path: str) -> str:
        return file_path

    @router.get("/")
    async def home() -> str:
        return "home"

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app = FastAPI()
    app.include_router(router, prefix="/t/{tenant_id}")
    app.include_router(router)
    app.mount("/assets", StaticFiles(directory=static))
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return app


async def test_templates_of_path_parameters_prefixes_mounts_and_no_route(tmp_path: Path) -> None:
    metrics = PrometheusMetrics()
    app = small_app(metrics, str(tmp_path))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in (
            "/files/a/b/c.txt",
            "/t/files/files/x",  # a tenant named like a segment of the route
            "/t/acme/",
            "/",
            "/assets/missing.css",
            "/nothing/here",
            "/boom",
        ):
            await client.get(path)
        await client.request("BREW", "/")
    assert counted(metrics) == {
        ("GET", "/files/{file_path}", "200"): 1,
        ("GET", "/t/{tenant_id}/files/{file_path}", "200"): 1,
        ("GET", "/t/{tenant_id}/", "200"): 1,
        ("GET", "/", "200"): 1,
        ("GET", "/assets/{path}", "404"): 1,
        ("GET", UNMATCHED, "404"): 1,
        ("GET", "/boom", "500"): 1,
        ("OTHER", "/", "405"): 1,
    }


async def test_a_request_whose_app_raised_is_a_500_and_the_error_goes_on() -> None:
    metrics = PrometheusMetrics()

    async def broken(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("a bug")

    middleware = HttpMetricsMiddleware(broken, metrics)  # type: ignore[arg-type]
    scope = {"type": "http", "method": "GET", "path": "/x", "root_path": ""}
    with pytest.raises(RuntimeError):
        await middleware(scope, None, None)  # type: ignore[arg-type]
    assert counted(metrics) == {("GET", UNMATCHED, "500"): 1}
