"""`GET /metrics`: Prometheus's scrape, for a scraper holding `PHONEAUTH_METRICS_TOKEN`."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from phoneauth.errors import PhoneauthError
from phoneauth.web.errors import error_responses

if TYPE_CHECKING:
    from phoneauth.metrics import PrometheusMetrics


class MetricsDisabledError(PhoneauthError):
    """Metrics are off on this server: set PHONEAUTH_METRICS_TOKEN and restart to serve them."""

    code = "metrics.disabled"
    status = 404


class MetricsUnauthorizedError(PhoneauthError):
    """Send the metrics token: `Authorization: Bearer <PHONEAUTH_METRICS_TOKEN>`."""

    code = "auth.unauthorized"
    status = 401


def metrics_exporter(request: Request) -> PrometheusMetrics:
    """The app's metrics when the caller shows the token; the errors above otherwise."""
    exporter: PrometheusMetrics | None = request.app.state.metrics
    token = request.app.state.services.settings.metrics_token
    if exporter is None or token is None:
        raise MetricsDisabledError()
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    # Compared in constant time, whatever the scheme: no timing tells how much was right.
    if not hmac.compare_digest(given.strip().encode(), expected) or scheme.lower() != "bearer":
        raise MetricsUnauthorizedError()
    return exporter


# Module level, reading the app from the request, as `/health` does.
async def metrics(request: Request) -> Response:
    exporter = metrics_exporter(request)
    # Off the event loop: with several workers a scrape reads every worker's files.
    body, content_type = await run_in_threadpool(exporter.exposition, request.headers.get("accept"))
    return Response(body, media_type=content_type)


_ERRORS = error_responses(MetricsUnauthorizedError, MetricsDisabledError)
_ERRORS.pop(400)  # no parameter to be invalid
metrics_router = APIRouter()
metrics_router.add_api_route(
    "/metrics",
    metrics,
    methods=["GET"],
    tags=["metrics"],
    summary="Prometheus metrics (with `Authorization: Bearer <PHONEAUTH_METRICS_TOKEN>`)",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus's text exposition format (OpenMetrics when `Accept` "
            "asks for it).",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **_ERRORS,
    },
)
