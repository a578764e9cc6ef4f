"""Providers' delivery-report callbacks: public, authenticated by the provider's signature.

`POST /api/connectors/{id}/delivery-reports` (and `GET` for Vonage DLRs set to GET) takes the
report of the saved SMS connector `{id}`; the URL is what phoneauth puts on each provider
request as the message's status callback. No admin credential: the connector's own secret
checks the signature. Every refusal is a 4xx that changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from phoneauth.connectors.receipts import (
    CallbackRequest,
    MalformedReportError,
    ReportSignatureError,
    ReportsNotSupportedError,
)
from phoneauth.domain.connector_management import ConnectorNotFoundError
from phoneauth.domain.delivery_reports import OutdatedReportError, UnknownMessageError
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.settings import Settings
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.errors import error_responses

router = APIRouter(tags=["delivery reports"])

PATH = "/connectors/{connector_id}/delivery-reports"
ConnectorId = Annotated[
    str, Path(max_length=128, description="The saved SMS connector (`GET /api/connectors`).")
]
RESPONSES = error_responses(
    ReportSignatureError,
    MalformedReportError,
    ReportsNotSupportedError,
    ConnectorNotFoundError,
    TenantNotFoundError,
    UnknownMessageError,
    OutdatedReportError,
)


class DeliveryReportAnswer(BaseModel):
    applied: int
    """How many message-log rows the report moved forward."""


def called_url(request: Request, settings: Settings) -> str:
    """The URL the provider called, as it signed it: the public URL the callback was built from
    (a proxy in front may change scheme, host and port), else the URL as received."""
    if not settings.public_url:
        return str(request.url)
    query = request.url.query
    return settings.public_url + request.url.path + (f"?{query}" if query else "")


async def _receive(connector_id: str, request: Request) -> DeliveryReportAnswer:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    callback = CallbackRequest(
        method=request.method,
        url=called_url(request, services.settings),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=await request.body(),
    )
    applied = await services.delivery_reports.receive(tenant.id, connector_id, callback)
    return DeliveryReportAnswer(applied=applied)


@router.post(
    PATH,
    response_model=DeliveryReportAnswer,
    summary="A provider's delivery report (no admin key: the provider's signature is checked)",
    responses=RESPONSES,
)
async def post_delivery_report(connector_id: ConnectorId, request: Request) -> DeliveryReportAnswer:
    return await _receive(connector_id, request)


@router.get(
    PATH,
    response_model=DeliveryReportAnswer,
    summary="A delivery report sent as a GET query (Vonage's DLR setting `GET`)",
    responses=RESPONSES,
)
async def get_delivery_report(connector_id: ConnectorId, request: Request) -> DeliveryReportAnswer:
    return await _receive(connector_id, request)
