"""Logto's Management API for codes: send and verify a `Generic` code, for flows of your own."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.connectors import UsageType
from phoneauth.connectors.errors import ALL_CONNECTOR_ERRORS
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.rate_limits import (
    CountryRateLimitedError,
    IpRateLimitedError,
    MessageRateLimitedError,
    VerificationBlockedError,
)
from phoneauth.domain.verification_codes import (
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
    CodeNotFoundError,
    NoSmsConnectorError,
)
from phoneauth.web.errors import error_responses
from phoneauth.web.lean_requests import body_schema, json_body, managed_tenant

# Every sign-in by code passes through these two routes: they read the request themselves
# (`lean_requests`), which doubles what one process serves.
router = APIRouter(tags=["verification codes"])

_PHONE = Field(
    min_length=1,
    max_length=64,
    description="E.164 (`+4915112345678`) or Logto's digits-only form (`4915112345678`).",
    examples=["+4915112345678"],
)


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = _PHONE


class CodeVerification(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    phone: str = _PHONE
    verification_code: str = Field(
        alias="verificationCode", min_length=1, max_length=64, examples=["123456"]
    )


def client_ip(request: Request) -> str | None:
    """The peer address (behind a proxy, run uvicorn with `--proxy-headers`)."""
    return request.client.host if request.client else None


@router.post(
    "/verification-codes",
    status_code=204,
    summary="Send a Generic verification code by SMS",
    openapi_extra=body_schema(CodeRequest),
    responses=error_responses(
        InvalidPhoneNumberError,
        MessageRateLimitedError,
        IpRateLimitedError,
        CountryRateLimitedError,
        NoSmsConnectorError,
        *ALL_CONNECTOR_ERRORS,
    ),
)
async def send_code(request: Request) -> Response:
    services, tenant = await managed_tenant(request)
    body = await json_body(request, CodeRequest)
    await services.codes.send(tenant, body.phone, UsageType.GENERIC, ip=client_ip(request))
    return Response(status_code=204)


@router.post(
    "/verification-codes/verify",
    status_code=204,
    summary="Verify (and consume) a Generic verification code",
    openapi_extra=body_schema(CodeVerification),
    responses=error_responses(
        InvalidPhoneNumberError,
        CodeNotFoundError,
        CodeExpiredError,
        CodeMaxTriesError,
        CodeMismatchError,
        VerificationBlockedError,
    ),
)
async def verify_code(request: Request) -> Response:
    services, tenant = await managed_tenant(request)
    body = await json_body(request, CodeVerification)
    await services.codes.verify(
        tenant,
        body.phone,
        UsageType.GENERIC,
        body.verification_code,
        ip=client_ip(request),
    )
    return Response(status_code=204)
