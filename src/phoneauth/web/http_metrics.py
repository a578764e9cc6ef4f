"""Every HTTP request counted and timed by route template and status: a plain ASGI middleware.

The label is the template the router matched (`/t/{tenant_id}/api/connectors/{connector_id}`),
never the path itself: ids, phone numbers and tenant names in paths would make a new series per
value. Requests no route matched share one label. FastAPI gives the matched route its own path,
without the prefix its router was included at, so the prefix is read back from the request's
path, its parameters (the tenant) replaced by their names.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.convertors import PathConvertor
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from phoneauth.metrics import PrometheusMetrics

UNMATCHED = "(unmatched)"
"""The route of a request no route matched: a 404, or a redirect to the path with(out) `/`."""
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetricsMiddleware:
    """Plain ASGI, not `BaseHTTPMiddleware`: a clock reading and two counter updates."""

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            elapsed = time.perf_counter() - started
            self.metrics.http_request(method, route_template(scope), status, elapsed)


def route_template(scope: Scope) -> str:
    """The matched route's template, its router's prefix included, after the app answered."""
    path_format: str | None = getattr(scope.get("route"), "path_format", None)
    if path_format is None:
        if "app_root_path" in scope:  # a mounted app (the static files): where it is mounted
            mounted: str = scope["root_path"].removeprefix(scope["app_root_path"])
            return mounted + "/{path}"
        return UNMATCHED
    route: Any = scope["route"]
    params: dict[str, Any] = scope.get("path_params", {})
    path: str = scope["path"].removeprefix(scope.get("root_path", ""))
    # The route's own part of the path ends it: as many segments as its template has, more
    # where a `{name:path}` parameter matched several.
    slashes = path_format.count("/")
    for name, convertor in route.param_convertors.items():
        if isinstance(convertor, PathConvertor):
            slashes += str(params.get(name, "")).count("/")
    prefix = path.rsplit("/", slashes)[0] if slashes else path
    if len(params) > len(route.param_convertors):
        parts = prefix.split("/")
        for name, value in params.items():
            if name not in route.param_convertors and str(value) in parts:
                parts[parts.index(str(value))] = "{" + name + "}"
        prefix = "/".join(parts)
    return prefix + path_format
