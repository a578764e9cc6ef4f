"""Management API keys: random bearer tokens, stored only as SHA-256, global or per tenant."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from phoneauth.errors import PhoneauthError

KEY_PREFIX = "pa_"


class UnauthorizedError(PhoneauthError):
    """Send a valid admin key or access token: `Authorization: Bearer <key or token>`."""

    code = "auth.unauthorized"
    status = 401


class ForbiddenError(PhoneauthError):
    """This credential may not manage this tenant."""

    code = "auth.forbidden"
    status = 403


@dataclass(frozen=True, slots=True)
class AdminKey:
    id: str
    tenant_id: str | None
    name: str
    created_at: datetime

    def may_manage(self, tenant_id: str) -> bool:
        return self.tenant_id is None or self.tenant_id == tenant_id


class AdminKeyStore(Protocol):
    async def create(self, tenant_id: str | None, name: str, key_hash: str) -> AdminKey: ...
    async def find(self, key_hash: str) -> AdminKey | None: ...
    async def count(self) -> int: ...


def hash_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough and survives a secret-key change.
    return hashlib.sha256(key.encode()).hexdigest()


class AdminKeys:
    def __init__(self, store: AdminKeyStore) -> None:
        self.store = store

    async def create(self, name: str, tenant_id: str | None = None) -> tuple[AdminKey, str]:
        """A new key; the clear key is returned once and never stored."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        return await self.store.create(tenant_id, name, hash_key(key)), key

    async def authenticate(self, authorization: str | None, tenant_id: str) -> AdminKey:
        scheme, _, key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise UnauthorizedError()
        found = await self.store.find(hash_key(key.strip()))
        if found is None:
            raise UnauthorizedError("This admin key is not valid.")
        if not found.may_manage(tenant_id):
            raise ForbiddenError("This admin key is scoped to another tenant.", tenant_id=tenant_id)
        return found

    async def bootstrap(self) -> str | None:
        """On the very first start, a global key to print; afterwards nothing."""
        if await self.store.count() > 0:
            return None
        _, key = await self.create("first start")
        return key
