"""Logto's `/api/verifications/*` for a signed-in user: a code by SMS or email, or the password,
opens a verification record; its id proves a fresh identity (`logto-verification-id`) or the
ownership of a new phone number or email address."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.connectors import UsageType
from phoneauth.connectors.errors import ALL_CONNECTOR_ERRORS
from phoneauth.domain.account_verifications import RecordNotFoundError
from phoneauth.domain.code_resends import ResendTooSoonError
from phoneauth.domain.emails import LOGTO_EMAIL, InvalidEmailError
from phoneauth.domain.experience_errors import InvalidCredentialsError
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
    EmailMismatchError,
    NoEmailConnectorError,
    NoSmsConnectorError,
    PhoneMismatchError,
)
from phoneauth.web.account_deps import AUTH_ERRORS, SignedInDep
from phoneauth.web.deps import client_ip, services_of
from phoneauth.web.errors import error_responses

router = APIRouter()  # tagged `account` by the Account API router that includes it

SEND_ERRORS = (
    InvalidPhoneNumberError,
    VerificationBlockedError,
    MessageRateLimitedError,
    IpRateLimitedError,
    CountryRateLimitedError,
    ResendTooSoonError,
    *SMS_REFUSALS,
    NoSmsConnectorError,
    *ALL_CONNECTOR_ERRORS,
)
EMAIL_SEND_ERRORS = (InvalidEmailError, NoEmailConnectorError)
VERIFY_ERRORS = (
    InvalidPhoneNumberError,
    VerificationBlockedError,
    CodeNotFoundError,
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
)


class PhoneIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["phone"]
    value: str = Field(
        min_length=1,
        max_length=64,
        description="E.164 or Logto's digits-only form.",
        examples=["4915112345678"],
    )


class EmailIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["email"]
    value: str = Field(
        min_length=1,
        max_length=256,
        pattern=LOGTO_EMAIL.pattern,
        description="Logto's `emailRegEx`; then checked with `email-validator`.",
        examples=["jane@example.com"],
    )


CodeIdentifier = Annotated[PhoneIdentifier | EmailIdentifier, Field(discriminator="type")]


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: CodeIdentifier
    templateType: Literal["BindMfa", "UserPermissionValidation"] | None = Field(
        default=None, description="Used only when the code goes to the user's own identifier."
    )


class CodeVerification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: CodeIdentifier
    verificationId: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)


class PasswordProof(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=256)


class RecordCreated(BaseModel):
    verificationRecordId: str
    expiresAt: str = Field(description="ISO 8601, UTC.", examples=["2026-11-25T12:10:00+00:00"])


class RecordVerified(BaseModel):
    verificationRecordId: str


@router.post(
    "/verifications/verification-code",
    status_code=201,
    response_model=RecordCreated,
    summary="Send a code to a phone number or an email address and open a verification record",
    responses=error_responses(*AUTH_ERRORS, *SEND_ERRORS, *EMAIL_SEND_ERRORS),
)
async def send_code(signed_in: SignedInDep, body: CodeRequest, request: Request) -> RecordCreated:
    services = services_of(request)
    template = None if body.templateType is None else UsageType(body.templateType)
    send = (
        services.account.send_email_code
        if isinstance(body.identifier, EmailIdentifier)
        else services.account.send_code
    )
    record = await send(
        signed_in.tenant,
        signed_in.user_id,
        body.identifier.value,
        template,
        ip=client_ip(request),
    )
    return RecordCreated(verificationRecordId=record.id, expiresAt=record.expires_at.isoformat())


@router.post(
    "/verifications/verification-code/verify",
    response_model=RecordVerified,
    summary="Verify the code of a verification record",
    responses=error_responses(
        *AUTH_ERRORS,
        RecordNotFoundError,
        PhoneMismatchError,
        EmailMismatchError,
        InvalidEmailError,
        *VERIFY_ERRORS,
    ),
)
async def verify_code(
    signed_in: SignedInDep, body: CodeVerification, request: Request
) -> RecordVerified:
    services = services_of(request)
    if isinstance(body.identifier, EmailIdentifier):
        record = await services.account.verify_email_code(
            signed_in.tenant,
            signed_in.user_id,
            body.identifier.value,
            body.verificationId,
            body.code,
        )
    else:
        record = await services.account.verify_code(
            signed_in.tenant,
            signed_in.user_id,
            body.identifier.value,
            body.verificationId,
            body.code,
            ip=client_ip(request),
        )
    return RecordVerified(verificationRecordId=record.id)


@router.post(
    "/verifications/password",
    status_code=201,
    response_model=RecordCreated,
    summary="Prove who you are with your password: a verified record for `logto-verification-id`",
    responses=error_responses(*AUTH_ERRORS, VerificationBlockedError, InvalidCredentialsError),
)
async def verify_password(
    signed_in: SignedInDep, request: Request, body: PasswordProof
) -> RecordCreated:
    services = services_of(request)
    record = await services.account.verify_password(
        signed_in.tenant, signed_in.user_id, body.password
    )
    return RecordCreated(verificationRecordId=record.id, expiresAt=record.expires_at.isoformat())
