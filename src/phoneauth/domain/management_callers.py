"""Who may call the Management API: an admin key, or a machine-to-machine application with an
access token for the tenant's Management API resource (client credentials, as in Logto).

Both come as `Authorization: Bearer <credential>`. Admin keys start with `pa_`; anything else
shaped like a JWT is an access token. A token is checked on every request: its signature by the
tenant's key (so a token of one tenant never manages another), issuer, audience, expiry and
scope `all`, and then the application itself, which must still exist, be MachineToMachine and
hold the Management API access role: deleting the app or taking the role away stops it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from phoneauth.domain.admin_keys import (
    KEY_PREFIX,
    AdminKey,
    AdminKeys,
    ForbiddenError,
    UnauthorizedError,
)
from phoneauth.domain.applications import (
    MANAGEMENT_API_ACCESS_ROLE_ID,
    Applications,
    ApplicationType,
)
from phoneauth.domain.oidc.tokens import MANAGEMENT_API_SCOPE, InvalidTokenError, OidcTokens


class CallerKind(StrEnum):
    ADMIN_KEY = "admin_key"
    APPLICATION = "application"


@dataclass(frozen=True, slots=True)
class ManagementCaller:
    """An authenticated caller of the Management API."""

    kind: CallerKind
    id: str  # the admin key's id, or the application's
    tenant_id: str | None  # None: a global admin key; an application manages its own tenant
    name: str

    def may_manage(self, tenant_id: str) -> bool:
        return self.tenant_id is None or self.tenant_id == tenant_id

    @classmethod
    def of_key(cls, key: AdminKey) -> ManagementCaller:
        return cls(CallerKind.ADMIN_KEY, key.id, key.tenant_id, key.name)


def _looks_like_jwt(credential: str) -> bool:
    # Admin keys are `pa_` + URL-safe base64, which has no dot; a JWS has exactly two.
    return not credential.startswith(KEY_PREFIX) and credential.count(".") == 2


class ManagementCallers:
    def __init__(self, admin_keys: AdminKeys, tokens: OidcTokens, applications: Applications):
        self.admin_keys = admin_keys
        self.tokens = tokens
        self.applications = applications

    async def authenticate(self, authorization: str | None, tenant_id: str) -> ManagementCaller:
        """The caller of a Management request on `tenant_id`; 401 `auth.unauthorized` for a
        missing, unknown, invalid or expired credential, 403 `auth.forbidden` for one that is
        valid but may not manage this tenant."""
        scheme, _, credential = (authorization or "").partition(" ")
        credential = credential.strip()
        if scheme.lower() == "bearer" and _looks_like_jwt(credential):
            return await self._application(credential, tenant_id)
        return ManagementCaller.of_key(await self.admin_keys.authenticate(authorization, tenant_id))

    async def _application(self, token: str, tenant_id: str) -> ManagementCaller:
        audience = self.tokens.management_resource(tenant_id)
        try:
            claims = await self.tokens.verify_access_token(tenant_id, token, audience=audience)
        except InvalidTokenError as error:
            # Its reason (expired, wrong audience, not this tenant's key), never the token.
            raise UnauthorizedError(error.message) from None
        if MANAGEMENT_API_SCOPE not in str(claims.get("scope", "")).split():
            raise ForbiddenError("The access token lacks the Management API scope `all`.")
        client_id = str(claims["client_id"])
        if str(claims["sub"]) != client_id:
            raise ForbiddenError("Only machine-to-machine applications use the Management API.")
        application = await self.applications.find(tenant_id, client_id)
        if application is None:
            raise UnauthorizedError("The application of this access token no longer exists.")
        if application.type is not ApplicationType.MACHINE_TO_MACHINE:
            raise ForbiddenError("Only machine-to-machine applications use the Management API.")
        if not await self.applications.has_role(
            tenant_id, application.id, MANAGEMENT_API_ACCESS_ROLE_ID
        ):
            raise ForbiddenError("The application no longer holds the Management API access role.")
        return ManagementCaller(CallerKind.APPLICATION, application.id, tenant_id, application.name)
