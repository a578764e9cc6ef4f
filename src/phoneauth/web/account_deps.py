"""What the Account API's routes share: the signed-in user, the account center's gate and the
`logto-verification-id` header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from phoneauth.domain.account_center import (
    AccountCenterNotEnabledError,
    FieldNotEditableError,
    ensure_enabled,
)
from phoneauth.domain.sessions import NotSignedInError
from phoneauth.domain.tenants import Tenant, TenantNotFoundError
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.end_users import PrincipalDep

VERIFICATION_HEADER = "logto-verification-id"


@dataclass(frozen=True, slots=True)
class SignedIn:
    tenant: Tenant
    user_id: str


async def get_signed_in(request: Request, principal: PrincipalDep) -> SignedIn:
    # Authenticate first, so an unknown tenant is not revealed to anonymous callers.
    services = services_of(request)
    return SignedIn(await services.tenants.get(tenant_id_of(request)), principal.user_id)


SignedInDep = Annotated[SignedIn, Depends(get_signed_in)]


async def get_account_center_open(signed_in: SignedInDep) -> SignedIn:
    """Logto's `koaAccountCenter`: a change needs the account center enabled (400), checked
    before the body."""
    ensure_enabled(signed_in.tenant.settings.account_center)
    return signed_in


ChangeDep = Annotated[SignedIn, Depends(get_account_center_open)]

VerificationIdHeader = Annotated[
    str | None,
    Header(
        alias=VERIFICATION_HEADER,
        max_length=64,
        description="The id of a verified record proving a fresh identity: a password, or a "
        "`UserPermissionValidation` code to the user's own phone or email address.",
    ),
]

AUTH_ERRORS = (NotSignedInError, TenantNotFoundError)
GATE_ERRORS = (AccountCenterNotEnabledError, FieldNotEditableError)
