"""What the provider stores between requests, and the store it needs (see storage/repositories)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


def token_hash(value: str) -> str:
    """Codes and refresh tokens carry 256 random bits: SHA-256 is enough to store them."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """An `/oidc/auth` request waiting while the user signs in; resumed at `/oidc/auth/{uid}`."""

    uid: str
    tenant_id: str
    application_id: str
    parameters: dict[str, Any]  # {"query": [[name, value], ...]}, the request as it came
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code_hash: str
    tenant_id: str
    application_id: str
    user_id: str
    session_id: str
    family_id: str
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    # redirect_uri, scope, nonce, code_challenge, code_challenge_method, resource
    details: dict[str, Any] = field(default_factory=dict)
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedRefreshToken:
    token_hash: str
    tenant_id: str
    application_id: str
    user_id: str
    session_id: str
    family_id: str
    auth_time: datetime
    created_at: datetime
    expires_at: datetime
    details: dict[str, Any] = field(default_factory=dict)  # scope, resource
    used_at: datetime | None = None
    revoked_at: datetime | None = None


class OidcStore(Protocol):
    async def add_request(self, request: AuthorizationRequest) -> None: ...
    async def find_request(self, tenant_id: str, uid: str) -> AuthorizationRequest | None: ...
    async def delete_request(self, tenant_id: str, uid: str) -> None: ...

    async def add_code(self, code: IssuedCode) -> None: ...
    async def find_code(self, tenant_id: str, code_hash: str) -> IssuedCode | None: ...
    async def use_code(self, tenant_id: str, code_hash: str, when: datetime) -> bool:
        """Mark the code used unless it already was: True for the one caller that did."""
        ...

    async def add_refresh_token(self, token: IssuedRefreshToken) -> None: ...
    async def find_refresh_token(
        self, tenant_id: str, token_hash: str
    ) -> IssuedRefreshToken | None: ...
    async def use_refresh_token(self, tenant_id: str, token_hash: str, when: datetime) -> bool:
        """Mark the token rotated unless it already was: True for the one caller that did."""
        ...

    async def revoke_family(self, tenant_id: str, family_id: str, when: datetime) -> None:
        """Revoke the grant: its code and every refresh token issued from it."""
        ...

    async def family_revoked(self, tenant_id: str, family_id: str) -> bool: ...
    async def revoke_session(self, tenant_id: str, session_id: str, when: datetime) -> None:
        """Revoke every grant made in the login session."""
        ...

    async def delete_expired(self, now: datetime) -> int:
        """Forget what can no longer be used or replayed; how many rows went."""
        ...


class ResourceLookup(Protocol):
    async def access_token_ttl(self, tenant_id: str, indicator: str) -> int | None:
        """The access-token lifetime of a registered API resource; None when unknown."""
        ...
