"""End-user routes outside an interaction: Logto's Account API and accepting an invitation.

Served at `/api` and `/t/{tenant_id}/api`. The Account API needs a signed-in user (access token
or session cookie): verification records (`verifications`), then changes to the phone, the email
address, the password and the username. Accepting an invitation needs only the code from the SMS,
and asking for a new code only the invitation's link.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from phoneauth.connectors.errors import ALL_CONNECTOR_ERRORS
from phoneauth.domain.account import (
    LastSignInMethodRequiredError,
    NoSignInMethodLeftError,
    PhoneRequiredError,
    needs_identity_for_password,
)
from phoneauth.domain.account_center import ensure_editable
from phoneauth.domain.account_verifications import PermissionDeniedError, RecordNotFoundError
from phoneauth.domain.code_resends import ResendTooSoonError
from phoneauth.domain.email_blocklist import EMAIL_BLOCKLIST_ERRORS
from phoneauth.domain.emails import LOGTO_EMAIL, InvalidEmailError
from phoneauth.domain.organizations import (
    InvitationAcceptedError,
    InvitationExpiredError,
    InvitationNotFoundError,
    InvitationRevokedError,
)
from phoneauth.domain.password_policy import PasswordRejectedError
from phoneauth.domain.passwords import SamePasswordError
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.rate_limits import (
    CountryRateLimitedError,
    IpRateLimitedError,
    MessageRateLimitedError,
    VerificationBlockedError,
)
from phoneauth.domain.sms_protection import REFUSALS as SMS_REFUSALS
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.domain.usernames import USERNAME, UsernameRejectedError
from phoneauth.domain.users import EmailInUseError, PhoneInUseError, UsernameInUseError
from phoneauth.domain.verification_code_errors import NoSmsConnectorError
from phoneauth.web.account_deps import (
    AUTH_ERRORS,
    GATE_ERRORS,
    ChangeDep,
    SignedInDep,
    VerificationIdHeader,
)
from phoneauth.web.deps import client_ip, services_of, tenant_id_of
from phoneauth.web.errors import error_responses
from phoneauth.web.experience.deps import set_session_cookie
from phoneauth.web.links import invitation_url
from phoneauth.web.resend_header import resend_after
from phoneauth.web.verifications import VERIFY_ERRORS
from phoneauth.web.verifications import router as verifications_router

router = APIRouter(tags=["account"])
router.include_router(verifications_router)  # listed first, as they come first in a change


class PrimaryPhone(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=64, examples=["4915112345678"])
    newIdentifierVerificationRecordId: str = Field(min_length=1, max_length=64)


class PrimaryEmail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=1, max_length=256, pattern=LOGTO_EMAIL.pattern, examples=["jane@example.com"]
    )
    newIdentifierVerificationRecordId: str = Field(min_length=1, max_length=64)


class InvitationAcceptance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, examples=["123456"])


class InvitationAccepted(BaseModel):
    organizationId: str
    userId: str
    accessToken: str = Field(description="ES256 JWT; the session cookie is set as well.")


@router.get(
    "/my-account",
    summary="The signed-in user's profile",
    responses=error_responses(*AUTH_ERRORS),
)
async def my_account(signed_in: SignedInDep, request: Request) -> dict[str, Any]:
    services = services_of(request)
    user = await services.account.user(signed_in.tenant.id, signed_in.user_id)
    return user.public()


class AccountChange(BaseModel):
    """Logto's `PATCH /my-account` body; phoneauth takes the `username` key of it."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Logto's `usernameRegEx`; `null` removes the username.",
        examples=["alice"],
    )

    @field_validator("username")
    @classmethod
    def _username_format(cls, value: str | None) -> str | None:
        if value is not None and not USERNAME.match(value):
            raise ValueError("a username starts with a letter or _ and holds only A-Z, a-z, 0-9, _")
        return value


@router.patch(
    "/my-account",
    summary="Change the username (needs `logto-verification-id`)",
    responses=error_responses(
        *AUTH_ERRORS,
        *GATE_ERRORS,
        PermissionDeniedError,
        LastSignInMethodRequiredError,
        UsernameRejectedError,
        UsernameInUseError,
    ),
)
async def update_my_account(
    signed_in: ChangeDep,
    request: Request,
    body: AccountChange,
    verification_id: VerificationIdHeader = None,
) -> dict[str, Any]:
    # Logto's order: each key sent must be `Edit` in the account center, then a fresh identity.
    services = services_of(request)
    center = signed_in.tenant.settings.account_center
    if "username" in body.model_fields_set:
        ensure_editable(center, "username")
        await services.account.set_username(
            signed_in.tenant.id, signed_in.user_id, body.username, verification_id=verification_id
        )
    user = await services.account.user(signed_in.tenant.id, signed_in.user_id)
    return user.public()


@router.post(
    "/my-account/primary-phone",
    status_code=204,
    response_class=Response,
    summary="Replace the phone number (needs `logto-verification-id`)",
    responses=error_responses(
        *AUTH_ERRORS,
        *GATE_ERRORS,
        PermissionDeniedError,
        InvalidPhoneNumberError,
        RecordNotFoundError,
        PhoneInUseError,
    ),
)
async def set_primary_phone(
    signed_in: ChangeDep,
    request: Request,
    body: PrimaryPhone,
    verification_id: VerificationIdHeader = None,
) -> Response:
    # Logto's order: a fresh identity (401) first, then the account center's `phone` field.
    services = services_of(request)
    await services.account.ensure_identity_verified(
        signed_in.tenant.id, signed_in.user_id, verification_id
    )
    ensure_editable(signed_in.tenant.settings.account_center, "phone")
    await services.account.set_primary_phone(
        signed_in.tenant.id,
        signed_in.user_id,
        body.phone,
        body.newIdentifierVerificationRecordId,
        verification_id=verification_id,
    )
    return Response(status_code=204)


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=256)


@router.post(
    "/my-account/password",
    status_code=204,
    response_class=Response,
    summary="Set a new password (needs `logto-verification-id` once the account has a password, "
    "an email address or a phone)",
    responses=error_responses(
        *AUTH_ERRORS, *GATE_ERRORS, PermissionDeniedError, PasswordRejectedError, SamePasswordError
    ),
)
async def set_password(
    signed_in: ChangeDep,
    request: Request,
    body: NewPassword,
    verification_id: VerificationIdHeader = None,
) -> Response:
    # Logto's order: a fresh identity (401, when there is something to prove it with), then the
    # account center's `password` field, then the policy.
    services = services_of(request)
    user = await services.account.user(signed_in.tenant.id, signed_in.user_id)
    if needs_identity_for_password(user):
        await services.account.ensure_identity_verified(
            signed_in.tenant.id, signed_in.user_id, verification_id
        )
    ensure_editable(signed_in.tenant.settings.account_center, "password")
    await services.account.set_password(
        signed_in.tenant.id, signed_in.user_id, body.password, verification_id=verification_id
    )
    return Response(status_code=204)


@router.delete(
    "/my-account/primary-phone",
    status_code=204,
    response_class=Response,
    summary="Remove the phone number (needs `logto-verification-id`)",
    responses=error_responses(
        *AUTH_ERRORS,
        *GATE_ERRORS,
        PermissionDeniedError,
        PhoneRequiredError,
        NoSignInMethodLeftError,
    ),
)
async def remove_primary_phone(
    signed_in: ChangeDep, request: Request, verification_id: VerificationIdHeader = None
) -> Response:
    services = services_of(request)
    await services.account.ensure_identity_verified(
        signed_in.tenant.id, signed_in.user_id, verification_id
    )
    ensure_editable(signed_in.tenant.settings.account_center, "phone")
    await services.account.remove_primary_phone(
        signed_in.tenant.id, signed_in.user_id, verification_id=verification_id
    )
    return Response(status_code=204)


@router.post(
    "/my-account/primary-email",
    status_code=204,
    response_class=Response,
    summary="Set or replace the email address (needs `logto-verification-id`)",
    responses=error_responses(
        *AUTH_ERRORS,
        *GATE_ERRORS,
        PermissionDeniedError,
        InvalidEmailError,
        *EMAIL_BLOCKLIST_ERRORS,
        RecordNotFoundError,
        EmailInUseError,
    ),
)
async def set_primary_email(
    signed_in: ChangeDep,
    request: Request,
    body: PrimaryEmail,
    verification_id: VerificationIdHeader = None,
) -> Response:
    # Logto's order: a fresh identity (401), the account center's `email` field, the record.
    services = services_of(request)
    await services.account.ensure_identity_verified(
        signed_in.tenant.id, signed_in.user_id, verification_id
    )
    ensure_editable(signed_in.tenant.settings.account_center, "email")
    await services.account.set_primary_email(
        signed_in.tenant.id,
        signed_in.user_id,
        body.email,
        body.newIdentifierVerificationRecordId,
        verification_id=verification_id,
    )
    return Response(status_code=204)


@router.delete(
    "/my-account/primary-email",
    status_code=204,
    response_class=Response,
    summary="Remove the email address (needs `logto-verification-id`)",
    responses=error_responses(
        *AUTH_ERRORS, *GATE_ERRORS, PermissionDeniedError, LastSignInMethodRequiredError
    ),
)
async def remove_primary_email(
    signed_in: ChangeDep, request: Request, verification_id: VerificationIdHeader = None
) -> Response:
    services = services_of(request)
    await services.account.ensure_identity_verified(
        signed_in.tenant.id, signed_in.user_id, verification_id
    )
    ensure_editable(signed_in.tenant.settings.account_center, "email")
    await services.account.remove_primary_email(
        signed_in.tenant.id, signed_in.user_id, verification_id=verification_id
    )
    return Response(status_code=204)


@router.post(
    "/organization-invitations/{invitation_id}/accept",
    response_model=InvitationAccepted,
    summary="Accept an invitation with the code from the SMS; signs the invitee in",
    responses=error_responses(
        TenantNotFoundError,
        InvitationNotFoundError,
        InvitationAcceptedError,
        InvitationRevokedError,
        InvitationExpiredError,
        *VERIFY_ERRORS,
    ),
)
async def accept_invitation(
    invitation_id: str,
    body: InvitationAcceptance,
    request: Request,
    response: Response,
) -> InvitationAccepted:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    accepted = await services.organizations.accept(
        tenant, invitation_id, body.code, ip=client_ip(request)
    )
    issued = await services.sessions.sign_in(accepted.user)
    set_session_cookie(response, request, issued)  # one cookie, path "/", as the Experience API
    return InvitationAccepted(
        organizationId=accepted.invitation.organization_id,
        userId=accepted.user.id,
        accessToken=issued.access_token,
    )


@router.post(
    "/organization-invitations/{invitation_id}/resend",
    status_code=204,
    response_class=Response,
    summary="The invitee asks for a new code; the same answer whether or not one was sent",
    responses=error_responses(
        TenantNotFoundError,
        VerificationBlockedError,
        MessageRateLimitedError,
        IpRateLimitedError,
        CountryRateLimitedError,
        ResendTooSoonError,
        *SMS_REFUSALS,
        NoSmsConnectorError,
        *ALL_CONNECTOR_ERRORS,
    ),
)
async def resend_invitation_code(
    invitation_id: Annotated[str, Path(max_length=64)], request: Request
) -> Response:
    """No admin key: whoever holds the link may ask, within the usual send budgets. An unknown
    or closed invitation answers 204 too, and no SMS leaves."""
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    await services.organizations.resend(
        tenant,
        invitation_id,
        ip=client_ip(request),
        link=partial(invitation_url, services.settings),
        quiet=True,
    )
    return Response(status_code=204, headers=resend_after(tenant))
