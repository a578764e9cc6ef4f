"""Applications: the clients of phoneauth's OpenID Connect provider (Logto's applications).

Native and SPA apps are public (no secret: PKCE protects their codes); Traditional and
MachineToMachine apps are confidential and authenticate with a secret, shown once when made and
kept only as a SHA-256 hash (256 random bits: a fast hash is enough). A machine-to-machine app
reaches the Management API only once it holds the Management API access role, as in Logto.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from phoneauth.errors import PhoneauthError

MANAGEMENT_API_ACCESS_ROLE_ID = "management-api-access"
"""The built-in machine-to-machine role whose holders may use the Management API (scope `all`)."""

DEFAULT_SECRET_NAME = "Default secret"
SECRET_LENGTH = 32  # Logto's


class ApplicationType(StrEnum):
    NATIVE = "Native"
    SPA = "SPA"
    TRADITIONAL = "Traditional"
    MACHINE_TO_MACHINE = "MachineToMachine"


PUBLIC_TYPES = frozenset({ApplicationType.NATIVE, ApplicationType.SPA})


class ApplicationNotFoundError(PhoneauthError):
    """No application with this id in this tenant."""

    code = "entity.not_exists_with_id"
    status = 404


@dataclass(frozen=True, slots=True)
class Application:
    tenant_id: str
    id: str
    name: str
    type: ApplicationType
    created_at: datetime
    description: str | None = None
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    custom_client_metadata: dict[str, Any] = field(default_factory=dict)
    custom_data: dict[str, Any] = field(default_factory=dict)
    is_third_party: bool = False

    @property
    def is_public(self) -> bool:
        """No secret: the token endpoint takes it with `token_endpoint_auth_method=none`."""
        return self.type in PUBLIC_TYPES

    @property
    def grant_types(self) -> tuple[str, ...]:
        """Logto's `getConstantClientMetadata`."""
        if self.type is ApplicationType.MACHINE_TO_MACHINE:
            return ("client_credentials",)
        return ("authorization_code", "refresh_token")


@dataclass(frozen=True, slots=True)
class StoredSecret:
    name: str
    secret_hash: str
    preview: str
    created_at: datetime
    expires_at: datetime | None


class ApplicationStore(Protocol):
    async def add(self, application: Application) -> None: ...
    async def find(self, tenant_id: str, application_id: str) -> Application | None: ...
    async def add_secret(
        self, tenant_id: str, application_id: str, secret: StoredSecret
    ) -> None: ...
    async def secrets(self, tenant_id: str, application_id: str) -> list[StoredSecret]: ...
    async def add_role(
        self, tenant_id: str, application_id: str, role_id: str, when: datetime
    ) -> None: ...
    async def role_ids(self, tenant_id: str, application_id: str) -> list[str]: ...


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_LENGTH)[:SECRET_LENGTH]


@dataclass(frozen=True, slots=True)
class CreatedApplication:
    application: Application
    secret: str | None  # shown once; None for public apps


class Applications:
    def __init__(self, store: ApplicationStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    async def create(self, application: Application) -> CreatedApplication:
        """Store the app; a confidential one gets its "Default secret", returned once."""
        await self.store.add(application)
        if application.is_public:
            return CreatedApplication(application, None)
        secret = await self.add_secret(application.tenant_id, application.id, DEFAULT_SECRET_NAME)
        return CreatedApplication(application, secret)

    async def add_secret(
        self, tenant_id: str, application_id: str, name: str, expires_at: datetime | None = None
    ) -> str:
        secret = new_secret()
        stored = StoredSecret(name, hash_secret(secret), secret[:4], self.clock(), expires_at)
        await self.store.add_secret(tenant_id, application_id, stored)
        return secret

    async def find(self, tenant_id: str, application_id: str) -> Application | None:
        return await self.store.find(tenant_id, application_id)

    async def get(self, tenant_id: str, application_id: str) -> Application:
        found = await self.store.find(tenant_id, application_id)
        if found is None:
            raise ApplicationNotFoundError()
        return found

    async def secret_matches(self, tenant_id: str, application_id: str, secret: str) -> bool:
        """Whether `secret` is one of the app's unexpired secrets (compared in constant time)."""
        presented = hash_secret(secret)
        now = self.clock()
        matched = False
        for stored in await self.store.secrets(tenant_id, application_id):
            live = stored.expires_at is None or stored.expires_at > now
            matched |= hmac.compare_digest(presented, stored.secret_hash) and live
        return matched

    async def has_role(self, tenant_id: str, application_id: str, role_id: str) -> bool:
        return role_id in await self.store.role_ids(tenant_id, application_id)

    async def add_role(self, tenant_id: str, application_id: str, role_id: str) -> None:
        await self.store.add_role(tenant_id, application_id, role_id, self.clock())
