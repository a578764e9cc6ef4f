"""Complete the account during an interaction: a phone, an email address, a username, a
password, SMS as a second factor."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from phoneauth.domain.email_blocklist import EMAIL_BLOCKLIST_ERRORS
from phoneauth.domain.experience_errors import (
    EmailExistsInProfileError,
    IdentifierNotFoundError,
    InvalidInteractionTypeError,
    MfaFactorNotEnabledError,
    MfaRequiredError,
    NotSupportedForForgotPasswordError,
    PasswordExistsInProfileError,
    PhoneExistsInProfileError,
    UsernameExistsInProfileError,
    VerificationFailedError,
)
from phoneauth.domain.interactions import VerificationSessionNotFoundError
from phoneauth.domain.password_policy import PasswordRejectedError
from phoneauth.domain.passwords import SamePasswordError
from phoneauth.domain.usernames import USERNAME, UsernameRejectedError
from phoneauth.domain.users import EmailInUseError, PhoneInUseError, UsernameInUseError
from phoneauth.web.deps import services_of
from phoneauth.web.experience.deps import InteractionDep, step_responses

router = APIRouter(tags=["experience"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PhoneProfile(_Body):
    type: Literal["phone"]
    verification_id: str = Field(alias="verificationId", min_length=1, max_length=64)


class EmailProfile(_Body):
    type: Literal["email"]
    verification_id: str = Field(alias="verificationId", min_length=1, max_length=64)


class UsernameProfile(_Body):
    type: Literal["username"]
    value: str = Field(
        min_length=1,
        max_length=128,
        description="Logto's `usernameRegEx` (ASCII); the tenant's username policy applies too.",
        examples=["alice"],
    )

    @field_validator("value")
    @classmethod
    def _username_format(cls, value: str) -> str:
        if not USERNAME.match(value):
            raise ValueError("a username starts with a letter or _ and holds only A-Z, a-z, 0-9, _")
        return value


class PasswordProfile(_Body):
    type: Literal["password"]
    value: str = Field(min_length=1, max_length=256)


class NewPassword(_Body):
    password: str = Field(min_length=1, max_length=256)


class MfaBinding(_Body):
    type: Literal["PhoneVerificationCode"]
    verification_id: str = Field(alias="verificationId", min_length=1, max_length=64)


ProfileChange = Annotated[
    PhoneProfile | EmailProfile | UsernameProfile | PasswordProfile, Field(discriminator="type")
]

_GUARDS = (
    NotSupportedForForgotPasswordError,
    IdentifierNotFoundError,
    MfaRequiredError,
)


@router.post(
    "/experience/profile",
    status_code=204,
    summary="Add a verified phone or email address, a username or a password to the account "
    "being signed in or created",
    responses=step_responses(
        *_GUARDS,
        VerificationSessionNotFoundError,
        VerificationFailedError,
        PhoneExistsInProfileError,
        PhoneInUseError,
        *EMAIL_BLOCKLIST_ERRORS,
        EmailExistsInProfileError,
        EmailInUseError,
        UsernameExistsInProfileError,
        UsernameRejectedError,
        UsernameInUseError,
        PasswordExistsInProfileError,
        PasswordRejectedError,
        SamePasswordError,
    ),
)
async def update_profile(
    body: ProfileChange, interaction: InteractionDep, request: Request
) -> Response:
    services = services_of(request)
    if isinstance(body, PhoneProfile):
        await services.experience.bind_phone(interaction, body.verification_id)
    elif isinstance(body, EmailProfile):
        await services.experience.bind_email(interaction, body.verification_id)
    elif isinstance(body, UsernameProfile):
        await services.experience.add_username(interaction, body.value)
    else:
        await services.experience.add_password(interaction, body.value)
    return Response(status_code=204)


@router.put(
    "/experience/profile/password",
    status_code=204,
    summary="The new password of a reset, or the password of a registration",
    responses=step_responses(
        InvalidInteractionTypeError,
        IdentifierNotFoundError,
        PasswordRejectedError,
        SamePasswordError,
    ),
)
async def set_password(
    body: NewPassword, interaction: InteractionDep, request: Request
) -> Response:
    services = services_of(request)
    await services.experience.set_password(interaction, body.password)
    return Response(status_code=204)


@router.post(
    "/experience/profile/mfa",
    status_code=204,
    summary="Bind a verified phone as the account's SMS second factor",
    responses=step_responses(
        *_GUARDS,
        MfaFactorNotEnabledError,
        VerificationSessionNotFoundError,
        VerificationFailedError,
        PhoneExistsInProfileError,
        PhoneInUseError,
    ),
)
async def bind_mfa(body: MfaBinding, interaction: InteractionDep, request: Request) -> Response:
    services = services_of(request)
    await services.experience.bind_mfa(interaction, body.verification_id)
    return Response(status_code=204)
