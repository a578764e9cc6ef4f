"""Logto's `POST /api/experience/verification/new-password-identity`: register with an identifier
and a password (answers `{verificationId}` for the identification step)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from phoneauth.domain.email_blocklist import EMAIL_BLOCKLIST_ERRORS
from phoneauth.domain.emails import InvalidEmailError
from phoneauth.domain.new_password_identity import SignUpMethodNotEnabledError
from phoneauth.domain.password_policy import PasswordRejectedError
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.usernames import USERNAME
from phoneauth.domain.users import EmailInUseError, PhoneInUseError, UsernameInUseError
from phoneauth.web.deps import services_of
from phoneauth.web.experience.deps import InteractionDep, step_responses

router = APIRouter(tags=["experience"])


class NewIdentifier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["username", "email", "phone"]
    value: str = Field(min_length=1, max_length=256)

    @model_validator(mode="after")
    def _username_format(self) -> NewIdentifier:
        if self.type == "username" and not USERNAME.match(self.value):
            raise ValueError("a username starts with a letter or _ and holds only A-Z, a-z, 0-9, _")
        return self


class NewPasswordIdentity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: NewIdentifier
    password: str = Field(min_length=1, max_length=4096)


class VerificationId(BaseModel):
    verificationId: str


@router.post(
    "/experience/verification/new-password-identity",
    response_model=VerificationId,
    summary="Register with a username or phone number and a password",
    responses=step_responses(
        SignUpMethodNotEnabledError,
        UsernameInUseError,
        PhoneInUseError,
        EmailInUseError,
        InvalidPhoneNumberError,
        InvalidEmailError,
        *EMAIL_BLOCKLIST_ERRORS,
        PasswordRejectedError,
    ),
)
async def new_password_identity(
    body: NewPasswordIdentity, interaction: InteractionDep, request: Request
) -> VerificationId:
    """A phone number registered this way must also be proven by an SMS code in the same
    interaction before identification."""
    services = services_of(request)
    verification_id = await services.experience.new_password_identities.verify(
        interaction, body.identifier.type, body.identifier.value, body.password
    )
    return VerificationId(verificationId=verification_id)
