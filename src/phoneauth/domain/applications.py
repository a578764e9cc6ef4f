"""Applications: the clients of phoneauth's OpenID Connect provider (Logto's applications).

Native and SPA apps are public (no secret: PKCE protects their codes); Traditional and
MachineToMachine apps are confidential and authenticate with a secret, shown once when made and
kept only as a SHA-256 hash (256 random bits: a fast hash is enough). A machine-to-machine app
reaches the Management API only once it holds the Management API access role, as in Logto.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection
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


class RoleNotFoundError(PhoneauthError):
    """No role with this id; phoneauth has one, `management-api-access`."""

    code = "entity.not_exists_with_id"
    status = 404


class SecretNotFoundError(PhoneauthError):
    """The application has no secret with this name."""

    code = "entity.not_found"
    status = 404


class RoleNotAssignedError(PhoneauthError):
    """The application does not hold this role."""

    code = "entity.not_found"
    status = 404


class SecretNameExistsError(PhoneauthError):
    """Secret name already exists."""

    code = "application.secret_name_exists"
    status = 422


class PublicApplicationSecretError(PhoneauthError):
    """Native and single-page apps are public clients: they have no secrets, PKCE protects
    their codes."""

    code = "application.secret_not_allowed"
    status = 422


class InvalidApplicationTypeError(PhoneauthError):
    """Only machine to machine applications can have associated roles."""

    code = "application.invalid_type"
    status = 422


class ThirdPartyTypeError(PhoneauthError):
    """A machine-to-machine application cannot be a third-party app."""

    code = "application.invalid_third_party_application_type"
    status = 400


class DeviceFlowNativeOnlyError(PhoneauthError):
    """Only native applications can use the device flow."""

    code = "application.device_flow_native_only"
    status = 422


class SecretExpiryError(PhoneauthError):
    """The value of `expiresAt` must be in the future."""

    code = "request.invalid_input"
    status = 400


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
class Role:
    """A role an application may hold (Logto's `roles` row of type MachineToMachine)."""

    id: str
    name: str
    description: str
    type: str = "MachineToMachine"
    is_default: bool = False


MANAGEMENT_API_ACCESS_ROLE = Role(
    MANAGEMENT_API_ACCESS_ROLE_ID,
    "Logto Management API access",
    "Lets a machine-to-machine application call every Management API route with a token for "
    "the Management API resource (scope `all`).",
)
BUILT_IN_ROLES: tuple[Role, ...] = (MANAGEMENT_API_ACCESS_ROLE,)
"""The only roles phoneauth has: it has no roles API beyond reading this list."""


@dataclass(frozen=True, slots=True)
class ApplicationPage:
    items: list[Application]
    total: int


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
    async def search(
        self,
        tenant_id: str,
        types: Collection[ApplicationType],
        offset: int,
        limit: int | None,
    ) -> ApplicationPage:
        """Newest first; `types` empty means every type, `limit` None every application."""
        ...

    async def update(self, application: Application) -> bool: ...
    async def delete(self, tenant_id: str, application_id: str) -> bool:
        """The application with its secrets, roles, codes and tokens (ON DELETE CASCADE)."""
        ...

    async def add_secret(self, tenant_id: str, application_id: str, secret: StoredSecret) -> None:
        """Raises `SecretNameExistsError` when the application has a secret of that name."""
        ...

    async def secrets(self, tenant_id: str, application_id: str) -> list[StoredSecret]: ...
    async def delete_secret(self, tenant_id: str, application_id: str, name: str) -> bool: ...
    async def add_role(
        self, tenant_id: str, application_id: str, role_id: str, when: datetime
    ) -> None: ...
    async def role_ids(self, tenant_id: str, application_id: str) -> list[str]: ...
    async def remove_role(self, tenant_id: str, application_id: str, role_id: str) -> bool: ...


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
        check_rules(application)
        await self.store.add(application)
        if application.is_public:
            return CreatedApplication(application, None)
        secret = await self.add_secret(application.tenant_id, application.id, DEFAULT_SECRET_NAME)
        return CreatedApplication(application, secret)

    async def add_secret(
        self, tenant_id: str, application_id: str, name: str, expires_at: datetime | None = None
    ) -> str:
        return (await self._add_secret(tenant_id, application_id, name, expires_at))[1]

    async def _add_secret(
        self, tenant_id: str, application_id: str, name: str, expires_at: datetime | None
    ) -> tuple[StoredSecret, str]:
        secret = new_secret()
        stored = StoredSecret(name, hash_secret(secret), secret[:4], self.clock(), expires_at)
        await self.store.add_secret(tenant_id, application_id, stored)
        return stored, secret

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

    # --- what the Management API and the console add -------------------------------------------

    async def list_applications(
        self,
        tenant_id: str,
        types: Collection[ApplicationType] = (),
        *,
        offset: int = 0,
        limit: int | None = None,
    ) -> ApplicationPage:
        """Newest first."""
        return await self.store.search(tenant_id, types, offset, limit)

    async def update(self, tenant_id: str, application_id: str, **changes: Any) -> Application:
        """Replace the named fields (`name`, `description`, `redirect_uris`, ...); the type and
        the id stay."""
        if {"id", "tenant_id", "type", "created_at"} & changes.keys():
            raise ValueError("an application's id, tenant, type and creation time never change")
        changed = dataclasses.replace(await self.get(tenant_id, application_id), **changes)
        check_rules(changed)
        if not await self.store.update(changed):
            raise ApplicationNotFoundError()
        return changed

    async def delete(self, tenant_id: str, application_id: str) -> None:
        if not await self.store.delete(tenant_id, application_id):
            raise ApplicationNotFoundError()

    async def secrets(self, tenant_id: str, application_id: str) -> list[StoredSecret]:
        """Names, previews and dates; the values were shown once and are not kept."""
        await self.get(tenant_id, application_id)
        return await self.store.secrets(tenant_id, application_id)

    async def create_secret(
        self, tenant_id: str, application_id: str, name: str, expires_at: datetime | None = None
    ) -> tuple[StoredSecret, str]:
        """A new named secret of a confidential application: what is kept, and the value."""
        application = await self.get(tenant_id, application_id)
        if application.is_public:
            raise PublicApplicationSecretError()
        if expires_at is not None and expires_at <= self.clock():
            raise SecretExpiryError()
        return await self._add_secret(tenant_id, application_id, name, expires_at)

    async def delete_secret(self, tenant_id: str, application_id: str, name: str) -> None:
        await self.get(tenant_id, application_id)
        if not await self.store.delete_secret(tenant_id, application_id, name):
            raise SecretNotFoundError(name=name)

    def role(self, role_id: str) -> Role:
        for role in BUILT_IN_ROLES:
            if role.id == role_id:
                return role
        raise RoleNotFoundError(role_id=role_id)

    async def roles_of(self, tenant_id: str, application_id: str) -> list[Role]:
        await self._machine_to_machine(tenant_id, application_id)
        held = set(await self.store.role_ids(tenant_id, application_id))
        return [role for role in BUILT_IN_ROLES if role.id in held]

    async def assign_roles(
        self, tenant_id: str, application_id: str, role_ids: Collection[str]
    ) -> list[str]:
        """Give the roles the application lacks; answers those it did not hold before."""
        await self._machine_to_machine(tenant_id, application_id)
        for role_id in role_ids:
            self.role(role_id)
        held = set(await self.store.role_ids(tenant_id, application_id))
        added = [role_id for role_id in dict.fromkeys(role_ids) if role_id not in held]
        for role_id in added:
            await self.add_role(tenant_id, application_id, role_id)
        return added

    async def remove_role(self, tenant_id: str, application_id: str, role_id: str) -> None:
        await self._machine_to_machine(tenant_id, application_id)
        if not await self.store.remove_role(tenant_id, application_id, role_id):
            raise RoleNotAssignedError(role_id=role_id)

    async def _machine_to_machine(self, tenant_id: str, application_id: str) -> Application:
        application = await self.get(tenant_id, application_id)
        if application.type is not ApplicationType.MACHINE_TO_MACHINE:
            raise InvalidApplicationTypeError()
        return application


def check_rules(application: Application) -> None:
    """Logto's rules across fields: no third-party machine-to-machine app, and the device flow
    for native apps only."""
    if application.is_third_party and application.type is ApplicationType.MACHINE_TO_MACHINE:
        raise ThirdPartyTypeError()
    if (
        application.custom_client_metadata.get("isDeviceFlow")
        and application.type is not ApplicationType.NATIVE
    ):
        raise DeviceFlowNativeOnlyError()
