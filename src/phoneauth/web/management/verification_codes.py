"""Logto's Management API for codes: send and verify a `Generic` code, by SMS or by email, for
flows of your own."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from phoneauth.connectors import UsageType
from phoneauth.connectors.errors import ALL_CONNECTOR_ERRORS
from phoneauth.domain.code_resends import ResendTooSoonError
from phoneauth.domain.emails import InvalidEmailError
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.rate_limits import (
    CountryRateLimitedError,
    IpRateLimitedError,
    MessageRateLimitedError,
    VerificationBlockedError,
)
from phoneauth.domain.sms_protection import REFUSALS as SMS_REFUSALS
from phoneauth.domain.verification_code_errors import (
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
    CodeNotFoundError,
    NoEmailConnectorError,
    NoSmsConnectorError,
)
from phoneauth.web.deps import ManagedTenantDep, client_ip, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.resend_header import RESEND_AFTER_HEADER, resend_after

# A body sent without a Content-Type is read as JSON here, as these two routes always did
# (minimal clients and load generators send just the JSON).
router = APIRouter(tags=["verification codes"], strict_content_type=False)

SENT_BY_HEADER = "Phoneauth-Sms-Connector"
"""The id of the saved connector (active or standby) that took the SMS."""

_PHONE_ARGS: dict[str, Any] = {
    "min_length": 1,
    "max_length": 64,
    "description": "E.164 (`+4915112345678`) or Logto's digits-only form (`4915112345678`).",
    "examples": ["+4915112345678"],
}


def _ip_address(value: str) -> str:
    """An IPv4 or IPv6 address, written the standard way (only text: pydantic's own IP types
    would also take a number)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address, like 203.0.113.7") from None


IpAddress = Annotated[str, AfterValidator(_ip_address)]

_EMAIL = Field(
    default=None,
    min_length=1,
    max_length=256,
    description="An email address; the code goes out through the tenant's Email connector.",
    examples=["jane@example.com"],
)


class _OneRecipient(BaseModel):
    """Logto's union: `{phone}` or `{email}`, never both, never neither."""

    phone: str | None = Field(default=None, **_PHONE_ARGS)
    email: str | None = _EMAIL

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneRecipient:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give exactly one of `phone` and `email`")
        return self


class GenericCodeRequest(_OneRecipient):
    """Where to send the code: exactly one of `phone` (SMS) and `email` (the Email connector)."""

    model_config = ConfigDict(extra="forbid", title="CodeRequest")

    # A backend calls this route for its end users: counting the backend's own address would
    # put all of them in one per-IP budget. The admin key vouches for the address given.
    ip: IpAddress | None = Field(
        default=None,
        max_length=45,
        description="The end user's IP address (IPv4 or IPv6), counted by the per-IP send limit "
        "instead of the caller's and passed to the connector. Default: the caller's address.",
        examples=["203.0.113.7"],
    )


class GenericCodeVerification(_OneRecipient):
    """The code and where it was sent: exactly one of `phone` and `email`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, title="CodeVerification")

    verification_code: str = Field(
        alias="verificationCode", min_length=1, max_length=64, examples=["123456"]
    )


@router.post(
    "/verification-codes",
    status_code=204,
    summary="Send a Generic verification code by SMS or email",
    responses={
        204: {
            "description": "Sent (or, for a test phone number, stored without an SMS).",
            "headers": {
                SENT_BY_HEADER: {
                    "description": "The id of the saved SMS connector that took the message, "
                    "active or standby (`/api/sms-routing`); absent for email and test numbers.",
                    "schema": {"type": "string"},
                },
                RESEND_AFTER_HEADER: {
                    "description": "Seconds until the next send to this recipient may go "
                    "(`verificationCodePolicy.resendCooldownSeconds`; 0: at once). A send "
                    "before answers 429 `verification_code.resend_too_soon` with "
                    "`Retry-After`.",
                    "schema": {"type": "integer"},
                },
            },
        },
        **error_responses(
            InvalidPhoneNumberError,
            InvalidEmailError,
            VerificationBlockedError,
            MessageRateLimitedError,
            IpRateLimitedError,
            CountryRateLimitedError,
            ResendTooSoonError,
            *SMS_REFUSALS,
            NoSmsConnectorError,
            NoEmailConnectorError,
            *ALL_CONNECTOR_ERRORS,
        ),
    },
)
async def send_code(
    body: GenericCodeRequest, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    ip = body.ip or client_ip(request)
    if body.email is not None:
        await services.codes.send_email(tenant, body.email, UsageType.GENERIC, ip=ip)
        return Response(status_code=204, headers=resend_after(tenant))
    sent = await services.codes.send(tenant, body.phone or "", UsageType.GENERIC, ip=ip)
    # Logto answers 204 without a body: the connector that took the SMS (after any failover)
    # is named in a header of ours; none for a test phone number, which sends nothing. When
    # the next send may go is in another (`resendCooldownSeconds`).
    headers = resend_after(tenant)
    if sent.connector_id:
        headers[SENT_BY_HEADER] = sent.connector_id
    return Response(status_code=204, headers=headers)


@router.post(
    "/verification-codes/verify",
    status_code=204,
    summary="Verify (and consume) a Generic verification code",
    responses=error_responses(
        InvalidPhoneNumberError,
        InvalidEmailError,
        CodeNotFoundError,
        CodeExpiredError,
        CodeMaxTriesError,
        CodeMismatchError,
        VerificationBlockedError,
    ),
)
async def verify_code(
    body: GenericCodeVerification, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    if body.email is not None:
        await services.codes.verify_email(
            tenant, body.email, UsageType.GENERIC, body.verification_code
        )
        return Response(status_code=204)
    await services.codes.verify(
        tenant,
        body.phone or "",
        UsageType.GENERIC,
        body.verification_code,
        ip=client_ip(request),
    )
    return Response(status_code=204)
