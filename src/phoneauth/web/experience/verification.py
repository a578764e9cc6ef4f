"""Prove something inside an interaction: a code by SMS or email, a password (with a username,
email address or phone number), an MFA code."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.connectors.errors import ALL_CONNECTOR_ERRORS
from phoneauth.domain.code_resends import ResendTooSoonError
from phoneauth.domain.email_blocklist import EMAIL_BLOCKLIST_ERRORS
from phoneauth.domain.emails import InvalidEmailError
from phoneauth.domain.experience_errors import (
    EventForbiddenError,
    ForgotPasswordNotEnabledError,
    IdentifierNotFoundError,
    InvalidCredentialsError,
    MfaFactorNotEnabledError,
    PhoneMismatchError,
    SignInMethodNotEnabledError,
)
from phoneauth.domain.interactions import InteractionEvent, VerificationSessionNotFoundError
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.rate_limits import (
    CountryRateLimitedError,
    IpRateLimitedError,
    MessageRateLimitedError,
    VerificationBlockedError,
)
from phoneauth.domain.sms_protection import REFUSALS as SMS_REFUSALS
from phoneauth.domain.users import UserSuspendedError
from phoneauth.domain.verification_code_errors import (
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
    CodeNotFoundError,
    EmailMismatchError,
    NoEmailConnectorError,
    NoSmsConnectorError,
)
from phoneauth.web.deps import client_ip, services_of
from phoneauth.web.experience.deps import InteractionDep, preferred_locale, step_responses
from phoneauth.web.resend_header import SENT_WITH_RESEND_AFTER, add_resend_after

router = APIRouter(tags=["experience"])

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
EMAIL_SEND_ERRORS = (InvalidEmailError, NoEmailConnectorError, *EMAIL_BLOCKLIST_ERRORS)
VERIFY_ERRORS = (
    VerificationSessionNotFoundError,
    VerificationBlockedError,
    CodeNotFoundError,
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PhoneIdentifierIn(_Body):
    type: Literal["phone"]
    value: str = Field(
        min_length=1,
        max_length=64,
        description="E.164 (`+4915112345678`) or Logto's digits-only form (`4915112345678`).",
        examples=["+4915112345678"],
    )


class EmailIdentifierIn(_Body):
    type: Literal["email"]
    value: str = Field(min_length=1, max_length=256, examples=["jane@example.com"])


CodeIdentifierIn = Annotated[PhoneIdentifierIn | EmailIdentifierIn, Field(discriminator="type")]


class CodeRequest(_Body):
    identifier: CodeIdentifierIn
    interaction_event: InteractionEvent = Field(alias="interactionEvent")


class CodeCheck(_Body):
    identifier: CodeIdentifierIn
    verification_id: str = Field(alias="verificationId", min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)


class PasswordIdentifierIn(_Body):
    type: Literal["username", "email", "phone"]
    value: str = Field(
        min_length=1,
        max_length=256,
        description="A username, an email address, or a phone number (E.164 or digits only). "
        "Not checked for syntax: an unknown identifier is a wrong password.",
        examples=["alice"],
    )


class PasswordCheck(_Body):
    identifier: PasswordIdentifierIn
    password: str = Field(min_length=1, max_length=256)


class MfaCodeRequest(_Body):
    identifier_type: Literal["phone"] = Field(alias="identifierType")


class MfaCodeCheck(_Body):
    verification_id: str = Field(alias="verificationId", min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=64)
    identifier_type: Literal["phone"] = Field(alias="identifierType")


class VerificationId(BaseModel):
    verification_id: str = Field(alias="verificationId")


def _answer(verification_id: str) -> VerificationId:
    return VerificationId(verificationId=verification_id)


@router.post(
    "/experience/verification/verification-code",
    response_model=VerificationId,
    summary="Send a code to a phone number (SMS) or an email address",
    responses={
        **step_responses(
            *SEND_ERRORS, *EMAIL_SEND_ERRORS, EventForbiddenError, ForgotPasswordNotEnabledError
        ),
        200: SENT_WITH_RESEND_AFTER,
    },
)
async def send_code(
    body: CodeRequest,
    interaction: InteractionDep,
    request: Request,
    response: Response,
    after_answer: BackgroundTasks,
) -> VerificationId:
    """Logto's answer; the `Resend-After` header (phoneauth's) says when the next send may go.
    A send again for the same identifier in this interaction answers the same
    `verificationId` and, within the code's validity, sends the same code. A send that the
    answer does not wait for starts after it is written, so it cannot slow it down."""
    services = services_of(request)
    send = (
        services.experience.verifications.send_email_code
        if isinstance(body.identifier, EmailIdentifierIn)
        else services.experience.verifications.send_code
    )
    with services.codes.background.held() as held:
        verification_id = await send(
            interaction,
            body.identifier.value,
            body.interaction_event,
            ip=client_ip(request),
            locale=preferred_locale(request),
        )
        add_resend_after(response, await services.tenants.get(interaction.tenant_id))
    if held:
        after_answer.add_task(held.release)
    return _answer(verification_id)


@router.post(
    "/experience/verification/verification-code/verify",
    response_model=VerificationId,
    summary="Verify the code sent by SMS or email",
    responses=step_responses(
        *VERIFY_ERRORS, PhoneMismatchError, EmailMismatchError, InvalidEmailError
    ),
)
async def verify_code(
    body: CodeCheck, interaction: InteractionDep, request: Request
) -> VerificationId:
    services = services_of(request)
    if isinstance(body.identifier, EmailIdentifierIn):
        return _answer(
            await services.experience.verifications.verify_email_code(
                interaction, body.identifier.value, body.verification_id, body.code
            )
        )
    return _answer(
        await services.experience.verifications.verify_code(
            interaction,
            body.identifier.value,
            body.verification_id,
            body.code,
            ip=client_ip(request),
        )
    )


@router.post(
    "/experience/verification/password",
    response_model=VerificationId,
    summary="Check a username, email address or phone number with its password",
    responses=step_responses(
        InvalidPhoneNumberError,
        SignInMethodNotEnabledError,
        InvalidCredentialsError,
        UserSuspendedError,
        VerificationBlockedError,
    ),
)
async def verify_password(
    body: PasswordCheck, interaction: InteractionDep, request: Request
) -> VerificationId:
    services = services_of(request)
    return _answer(
        await services.experience.verifications.verify_password(
            interaction, body.identifier.type, body.identifier.value, body.password
        )
    )


@router.post(
    "/experience/verification/mfa-verification-code",
    response_model=VerificationId,
    summary="Send an MFA code to the identified user's phone",
    responses={
        **step_responses(*SEND_ERRORS, IdentifierNotFoundError, MfaFactorNotEnabledError),
        200: SENT_WITH_RESEND_AFTER,
    },
)
async def send_mfa_code(
    body: MfaCodeRequest, interaction: InteractionDep, request: Request, response: Response
) -> VerificationId:
    services = services_of(request)
    verification_id = await services.experience.verifications.send_mfa_code(
        interaction, ip=client_ip(request), locale=preferred_locale(request)
    )
    add_resend_after(response, await services.tenants.get(interaction.tenant_id))
    return _answer(verification_id)


@router.post(
    "/experience/verification/mfa-verification-code/verify",
    response_model=VerificationId,
    summary="Verify the MFA code",
    responses=step_responses(*VERIFY_ERRORS),
)
async def verify_mfa_code(
    body: MfaCodeCheck, interaction: InteractionDep, request: Request
) -> VerificationId:
    services = services_of(request)
    return _answer(
        await services.experience.verifications.verify_mfa_code(
            interaction, body.verification_id, body.code, ip=client_ip(request)
        )
    )
