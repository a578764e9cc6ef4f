"""Users as the Management API manages them (Logto's `admin-user` routes): create, change,
password, suspension. Identifiers arrive in Logto's shapes and are normalised here: phones
to E.164, emails with the domain lower-cased. No policy applies to admin-set passwords (Logto)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from phoneauth.domain.emails import normalise_email
from phoneauth.domain.experience_errors import InvalidCredentialsError
from phoneauth.domain.passwords import hash_any_password, verify_password
from phoneauth.domain.phone_numbers import parse_phone
from phoneauth.domain.sessions import Sessions
from phoneauth.domain.users import NewUser, User, UserNotFoundError, UserStore

log = logging.getLogger("phoneauth.users")


@dataclass(frozen=True, slots=True)
class UserFields:
    """What `POST /api/users` may set, as sent; `None` leaves a field empty."""

    username: str | None = None
    primary_email: str | None = None
    primary_phone: str | None = None
    password: str | None = None
    name: str | None = None
    avatar: str | None = None
    custom_data: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)


def _identifier(value: str | None) -> str | None:
    """Logto accepts `''` beside null to clear an identifier: both clear it here."""
    return value or None


class UserAdmin:
    def __init__(self, users: UserStore, sessions: Sessions) -> None:
        self.users = users
        self.sessions = sessions

    async def get(self, tenant_id: str, user_id: str) -> User:
        found = await self.users.get(tenant_id, user_id)
        if found is None:
            raise UserNotFoundError(user_id=user_id)
        return found

    async def create(self, tenant_id: str, fields: UserFields) -> User:
        email = _identifier(fields.primary_email)
        phone = _identifier(fields.primary_phone)
        new = NewUser(
            username=_identifier(fields.username),
            primary_email=normalise_email(email) if email is not None else None,
            phone=parse_phone(phone) if phone is not None else None,
            password_hash=await self._hash(fields.password),
            name=fields.name,
            avatar=fields.avatar or None,
            custom_data=fields.custom_data,
            profile=fields.profile,
        )
        user = await self.users.add(tenant_id, new)
        log.info("user %s created by an admin", user.id)
        return user

    async def update(self, tenant_id: str, user_id: str, changes: dict[str, Any]) -> User:
        """`PATCH /api/users/{id}`: the named fields replaced (`customData` and `profile` whole)."""
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "primary_email":
                email = _identifier(value)
                values[key] = normalise_email(email) if email is not None else None
            elif key == "phone":
                phone = _identifier(value)
                values[key] = parse_phone(phone) if phone is not None else None
            elif key in ("username", "avatar"):
                values[key] = _identifier(value)
            else:
                values[key] = value
        return await self.users.update(tenant_id, user_id, values)

    async def set_password(self, tenant_id: str, user_id: str, password: str) -> User:
        await self.get(tenant_id, user_id)  # 404 before an Argon2 hash is spent
        password_hash = await self._hash(password)
        assert password_hash is not None  # noqa: S101 - a password was given
        return await self.users.set_password(tenant_id, user_id, password_hash)

    async def verify_password(self, tenant_id: str, user_id: str, password: str) -> None:
        """Logto's `POST /users/{id}/password/verify`: 422 `session.invalid_credentials`
        for a wrong password and for a user without one."""
        user = await self.get(tenant_id, user_id)
        matches = await asyncio.to_thread(verify_password, user.password_hash, password)
        if not matches:
            raise InvalidCredentialsError("Incorrect account or password.")

    async def set_suspended(self, tenant_id: str, user_id: str, suspended: bool) -> User:
        """A suspended user cannot sign in, and their sessions end at once (Logto revokes them)."""
        user = await self.users.set_suspended(tenant_id, user_id, suspended)
        if suspended:
            ended = await self.sessions.end_all(tenant_id, user_id)
            log.info("user %s suspended; %d sessions ended", user_id, ended)
        else:
            log.info("user %s reinstated", user_id)
        return user

    @staticmethod
    async def _hash(password: str | None) -> str | None:
        if password is None:
            return None
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        return await asyncio.to_thread(hash_any_password, password)
