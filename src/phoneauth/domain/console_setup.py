"""The one-time setup token that the console's first admin account needs.

Without it, whoever reached `/console` first after a start became its admin. The token is made
on the first start while no admin exists, printed once, and stored only as SHA-256 in the
database, so it survives restarts and every worker and instance knows it.
`phoneauth admin setup-token` replaces it with a fresh one (the clear token is never kept, so it
cannot be printed again). Creating the first admin consumes it in the same transaction.

Guessing is hopeless (192 random bits), so a wrong token costs no lockout that would let any
visitor block the operator's own setup; the comparison is constant-time all the same.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from phoneauth.connectors.http import utc_now
from phoneauth.errors import PhoneauthError

SETUP_TOKEN_PREFIX = "setup_"
SETUP_TOKEN_BYTES = 24
"""192 random bits: more than enough that no rate of guesses finds it."""

# Compared against when no token is stored, so that case takes the same time as a wrong one.
_NO_TOKEN_HASH = "0" * 64


class InvalidSetupTokenError(PhoneauthError):
    """The setup token is missing or wrong. Copy it from the server's output of its first start,
    or print a new one on the server with `phoneauth admin setup-token`."""

    code = "console.invalid_setup_token"
    status = 403


class AdminExistsError(PhoneauthError):
    """The console admin account already exists; sign in instead."""

    code = "console.admin_exists"
    status = 409


class SetupTokenStore(Protocol):
    async def count(self) -> int:
        """How many console admins exist."""
        ...

    async def setup_token_hash(self) -> str | None: ...

    async def add_setup_token(self, token_hash: str, created_at: datetime) -> bool:
        """Store the token unless one is stored already; True when this call stored it (so two
        processes starting at once print one token between them)."""
        ...

    async def replace_setup_token(self, token_hash: str, created_at: datetime) -> None: ...


def hash_setup_token(token: str) -> str:
    # 192 random bits: a fast hash is enough, and it needs no key (the CLI has none at hand).
    return hashlib.sha256(token.encode()).hexdigest()


class SetupTokens:
    """Issue and check the token; `ConsoleAdmins.create_first_admin` consumes it."""

    def __init__(self, store: SetupTokenStore, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock

    @staticmethod
    def _new() -> str:
        return SETUP_TOKEN_PREFIX + secrets.token_urlsafe(SETUP_TOKEN_BYTES)

    async def at_first_start(self) -> str | None:
        """A new token to print when no admin and no token exist yet; otherwise None."""
        if await self.store.count() > 0 or await self.store.setup_token_hash() is not None:
            return None
        token = self._new()
        if await self.store.add_setup_token(hash_setup_token(token), self.clock()):
            return token
        return None

    async def issue(self) -> str:
        """A fresh token that replaces the stored one (`phoneauth admin setup-token`)."""
        if await self.store.count() > 0:
            raise AdminExistsError()
        token = self._new()
        await self.store.replace_setup_token(hash_setup_token(token), self.clock())
        return token

    async def waiting(self) -> bool:
        """Whether a token waits for the first admin."""
        return await self.store.setup_token_hash() is not None

    async def check(self, given: object) -> str:
        """The hash of `given` when it is the stored token (constant-time); else refused."""
        token = given.strip() if isinstance(given, str) else ""
        stored = await self.store.setup_token_hash()
        candidate = hash_setup_token(token)
        matches = hmac.compare_digest(stored or _NO_TOKEN_HASH, candidate)
        if not token or stored is None or not matches:
            raise InvalidSetupTokenError()
        return candidate
