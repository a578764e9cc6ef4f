"""End users of a tenant: found by phone number, created by registration or by an admin."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from phoneauth.domain.user_search import UserSearch
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
    primary_email: str | None = None
    name: str | None = None
    avatar: str | None = None
    custom_data: dict[str, Any] = field(default_factory=dict)
    is_suspended: bool = False
    last_sign_in_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def public(self) -> dict[str, Any]:
        """What the Account API shows: never the password hash."""
        return {
            "id": self.id,
            "primaryPhone": self.phone,
            "primaryEmail": self.primary_email,
            "username": self.username,
            "hasPassword": self.has_password,
            "mfaFactors": list(self.mfa_factors),
            "createdAt": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class NewUser:
    """An admin-made user (`POST /api/users`): identifiers already validated and normalised,
    the password already hashed."""

    username: str | None = None
    primary_email: str | None = None
    phone: str | None = None
    password_hash: str | None = None
    name: str | None = None
    avatar: str | None = None
    custom_data: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


UPDATABLE = frozenset(
    {"username", "primary_email", "phone", "name", "avatar", "custom_data", "profile"}
)
"""The fields `PATCH /api/users/{id}` may replace (None clears an identifier)."""


class UserNotFoundError(PhoneauthError):
    """The user does not exist."""

    code = "user.user_not_exist"
    status = 404


class PhoneInUseError(PhoneauthError):
    """This phone number is associated with an existing account."""

    code = "user.phone_already_in_use"
    status = 422


class UsernameInUseError(PhoneauthError):
    """This username is already in use."""

    code = "user.username_already_in_use"
    status = 422


class EmailInUseError(PhoneauthError):
    """This email is associated with an existing account."""

    code = "user.email_already_in_use"
    status = 422


class UserSuspendedError(PhoneauthError):
    """This account is suspended."""

    code = "user.suspended"
    status = 401


class UserStore(Protocol):
    """Tenant-scoped user rows. Writes raise `UsernameInUseError`, `EmailInUseError` or
    `PhoneInUseError` on a clash, which unique constraints decide even under concurrency."""

    async def get(self, tenant_id: str, user_id: str) -> User | None: ...
    async def find_by_phone(self, tenant_id: str, phone: str) -> User | None: ...
    async def find_by_email(self, tenant_id: str, email: str) -> User | None:
        """The user whose `primaryEmail` is `email` without regard to case (Logto)."""
        ...

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
        email: str | None = None,
    ) -> User:
        """Raises `UsernameInUseError`, `EmailInUseError` or `PhoneInUseError` on a clash;
        `email` as `emails.normalise_email` gives it."""
        ...

    async def add(self, tenant_id: str, new: NewUser) -> User:
        """Insert an admin-made user; clashes are checked username, email, phone (Logto)."""
        ...

    async def update(self, tenant_id: str, user_id: str, changes: dict[str, Any]) -> User:
        """Replace the `UPDATABLE` fields named; clashes are checked email, phone, username."""
        ...

    async def set_phone(self, tenant_id: str, user_id: str, phone: str | None) -> User: ...
    async def set_password(self, tenant_id: str, user_id: str, password_hash: str) -> User: ...
    async def set_mfa_factors(self, tenant_id: str, user_id: str, factors: list[str]) -> User: ...
    async def set_suspended(self, tenant_id: str, user_id: str, suspended: bool) -> User: ...
    async def record_sign_in(self, tenant_id: str, user_id: str, at: datetime) -> None: ...
    async def list(self, tenant_id: str, *, offset: int = 0, limit: int = 50) -> list[User]: ...
    async def count(self, tenant_id: str) -> int: ...
    async def search(
        self, tenant_id: str, search: UserSearch, *, offset: int, limit: int
    ) -> tuple[builtins.list[User], int]:
        """One page of the users `search` matches, newest first, and how many match in all."""
        ...

    async def delete(self, tenant_id: str, user_id: str) -> bool:
        """Delete the user, with their sessions and memberships; False if there was none."""
        ...
