"""End users of a tenant: found by phone number, created by registration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from phoneauth.errors import PhoneauthError


@dataclass(frozen=True, slots=True)
class User:
    id: str
    tenant_id: str
    phone: str | None
    username: str | None
    password_hash: str | None
    created_at: datetime
    mfa_factors: tuple[str, ...] = ()
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def public(self) -> dict[str, Any]:
        """What an API may show: never the password hash."""
        return {
            "id": self.id,
            "primaryPhone": self.phone,
            "username": self.username,
            "hasPassword": self.has_password,
            "mfaFactors": list(self.mfa_factors),
            "createdAt": self.created_at.isoformat(),
        }


class UserNotFoundError(PhoneauthError):
    """The user does not exist."""

    code = "user.user_not_exist"
    status = 404


class PhoneInUseError(PhoneauthError):
    """This phone number already belongs to another account."""

    code = "user.phone_already_in_use"
    status = 422


class UsernameInUseError(PhoneauthError):
    """This username is already in use."""

    code = "user.username_already_in_use"
    status = 422


class UserStore(Protocol):
    """Tenant-scoped user rows; `create` and `set_phone` raise `PhoneInUseError` on a clash."""

    async def get(self, tenant_id: str, user_id: str) -> User | None: ...
    async def find_by_phone(self, tenant_id: str, phone: str) -> User | None: ...
    async def find_by_username(
        self, tenant_id: str, username: str, *, case_sensitive: bool = True
    ) -> User | None: ...
    async def create(
        self,
        tenant_id: str,
        *,
        phone: str | None,
        password_hash: str | None = None,
        username: str | None = None,
    ) -> User:
        """Raises `UsernameInUseError` or `PhoneInUseError` on a clash."""
        ...

    async def set_phone(self, tenant_id: str, user_id: str, phone: str | None) -> User: ...
    async def set_password(self, tenant_id: str, user_id: str, password_hash: str) -> User: ...
    async def set_mfa_factors(self, tenant_id: str, user_id: str, factors: list[str]) -> User: ...
    async def list(self, tenant_id: str, *, offset: int = 0, limit: int = 50) -> list[User]: ...
    async def count(self, tenant_id: str) -> int: ...
    async def delete(self, tenant_id: str, user_id: str) -> bool:
        """Delete the user, with their sessions and memberships; False if there was none."""
        ...
