"""The console's admin accounts and browser sessions: the first admin, sign-in, CSRF, expiry.

The console is a browser app, so it has its own credential next to the Management API keys: a
username and an Argon2id password. The first admin needs the one-time setup token that the first
start printed (`console_setup`); creating it consumes the token, and a fixed row id makes a second
creation fail even when two browsers race. A session is a random token in an HTTP-only cookie,
stored only as SHA-256, signed so a forged cookie is refused before any lookup, and it expires.
Every session has its own CSRF token that each form carries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from itsdangerous import BadSignature, Signer

from phoneauth.connectors.http import utc_now
from phoneauth.domain.console_setup import AdminExistsError as AdminExistsError
from phoneauth.domain.console_setup import (
    InvalidSetupTokenError,
    SetupTokens,
    SetupTokenStore,
)
from phoneauth.domain.passwords import (
    PasswordRejectedError,
    check_policy,
    decoy_hash,
    hash_password,
    verify_password,
)
from phoneauth.errors import PhoneauthError

FIRST_ADMIN_ID = "owner"
"""The row id of the first admin; the primary key makes its creation a one-time act."""

SESSION_COOKIE = "phoneauth_console"
SESSION_LIFETIME = timedelta(hours=12)
MAX_FAILURES = 10
FAILURE_WINDOW = timedelta(minutes=15)
"""Wrong passwords per username and window before sign-in pauses (per process: enough to make
guessing slow; several instances each allow as many)."""
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


class InvalidUsernameError(PhoneauthError):
    """Use 3 to 64 letters, digits or . _ @ - for the username."""

    code = "console.invalid_username"
    status = 422


class InvalidCredentialsError(PhoneauthError):
    """The username or password is wrong."""

    code = "console.invalid_credentials"
    status = 401


class TooManyAttemptsError(PhoneauthError):
    """Too many wrong passwords for this username; wait a few minutes and try again."""

    code = "console.too_many_attempts"
    status = 429


class NotSignedInError(PhoneauthError):
    """Sign in to the console first; the session is missing or has expired."""

    code = "console.not_signed_in"
    status = 401


class CsrfError(PhoneauthError):
    """This form did not come from this console session, or the page is too old: reload the page
    and try again."""

    code = "console.csrf"
    status = 403


@dataclass(frozen=True, slots=True)
class ConsoleAdmin:
    id: str
    username: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """A signed-in browser: whose, until when, its CSRF token and the tenant it looks at."""

    token_hash: str
    admin_id: str
    username: str
    csrf_token: str
    tenant_id: str
    created_at: datetime
    expires_at: datetime


class ConsoleAdminStore(SetupTokenStore, Protocol):
    async def create_first(self, admin: ConsoleAdmin, setup_token_hash: str) -> ConsoleAdmin:
        """Store `admin` and delete the setup token with this hash, in one transaction. Raises
        `AdminExistsError` when an admin exists, `InvalidSetupTokenError` when no such token is
        stored (another request consumed it)."""
        ...

    async def find(self, username: str) -> ConsoleAdmin | None: ...

    async def add_session(self, session: ConsoleSession) -> None: ...

    async def get_session(self, token_hash: str) -> ConsoleSession | None: ...

    async def set_session_tenant(self, token_hash: str, tenant_id: str) -> None: ...

    async def delete_session(self, token_hash: str) -> None: ...

    async def delete_sessions_before(self, moment: datetime) -> int: ...


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleAdmins:
    """The rules of the console's sign-in; the web layer only renders their answers."""

    def __init__(
        self,
        store: ConsoleAdminStore,
        cookie_key: bytes,
        *,
        clock: Callable[[], datetime] = utc_now,
        lifetime: timedelta = SESSION_LIFETIME,
    ) -> None:
        self.store = store
        self.setup_tokens = SetupTokens(store, clock=clock)
        self.signer = Signer(cookie_key, salt="phoneauth-console-session")
        self.clock = clock
        self.lifetime = lifetime
        self._failures: dict[str, list[datetime]] = {}

    async def needs_first_admin(self) -> bool:
        return await self.store.count() == 0

    async def first_admin_problems(
        self, username: str, password: str, setup_token: object
    ) -> dict[str, PhoneauthError]:
        """Every reason the set-up form would be refused, by field, so the page shows them all at
        once. Uses nothing up: the token is only compared and no password is hashed."""
        problems: dict[str, PhoneauthError] = {}
        try:
            await self.setup_tokens.check(setup_token)
        except InvalidSetupTokenError as error:
            problems["setup_token"] = error
        if not USERNAME.fullmatch(username):
            problems["username"] = InvalidUsernameError()
        try:
            check_policy(password)
        except PasswordRejectedError as error:
            problems["password"] = error
        return problems

    async def create_first_admin(
        self, username: str, password: str, setup_token: object
    ) -> ConsoleAdmin:
        """The bootstrap admin, with the setup token (consumed); refused once any admin exists.

        The token is checked before the password is hashed: a visitor without it costs no
        Argon2 work."""
        if not await self.needs_first_admin():
            raise AdminExistsError()
        try:
            token_hash = await self.setup_tokens.check(setup_token)
            if not USERNAME.fullmatch(username):
                raise InvalidUsernameError()
            check_policy(password)
            admin = ConsoleAdmin(FIRST_ADMIN_ID, username, hash_password(password), self.clock())
            return await self.store.create_first(admin, token_hash)
        except InvalidSetupTokenError:
            # A racing request may have used the token up meanwhile: say what happened.
            if not await self.needs_first_admin():
                raise AdminExistsError() from None
            raise

    async def sign_in(
        self, username: str, password: str, tenant_id: str
    ) -> tuple[ConsoleSession, str]:
        """A new session and the cookie value that names it."""
        now = self.clock()
        recent = [t for t in self._failures.get(username, []) if t > now - FAILURE_WINDOW]
        if len(recent) >= MAX_FAILURES:
            wait = recent[0] + FAILURE_WINDOW - now
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            raise TooManyAttemptsError(
                f"Too many wrong passwords; try again in {minutes} minute(s).",
                retry_after=int(wait.total_seconds()) + 1,
            )
        admin = await self.store.find(username)
        stored = admin.password_hash if admin else decoy_hash()  # an unknown name costs as much
        # In a thread: Argon2 holds the CPU for tens of milliseconds, the event loop would wait.
        if not await asyncio.to_thread(verify_password, stored, password):
            if len(self._failures) > 10_000:  # a flood of made-up names: forget the oldest
                self._failures.pop(next(iter(self._failures)))
            self._failures[username] = [*recent, now]
            raise InvalidCredentialsError()
        self._failures.pop(username, None)
        assert admin is not None  # noqa: S101 - the dummy hash never verifies
        token = secrets.token_urlsafe(32)
        session = ConsoleSession(
            token_hash=_token_hash(token),
            admin_id=admin.id,
            username=admin.username,
            csrf_token=secrets.token_urlsafe(32),
            tenant_id=tenant_id,
            created_at=now,
            expires_at=now + self.lifetime,
        )
        await self.store.delete_sessions_before(now)
        await self.store.add_session(session)
        return session, self.signer.sign(token).decode()

    async def authenticate(self, cookie: str | None) -> ConsoleSession:
        if not cookie:
            raise NotSignedInError()
        try:
            token = self.signer.unsign(cookie).decode()
        except BadSignature:
            raise NotSignedInError() from None
        session = await self.store.get_session(_token_hash(token))
        if session is None or session.expires_at <= self.clock():
            raise NotSignedInError()
        return session

    @staticmethod
    def check_csrf(expected: str, given: object) -> None:
        """Constant-time; a missing or wrong token is refused."""
        if not isinstance(given, str) or not given or not expected:
            raise CsrfError()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            raise CsrfError()

    async def select_tenant(self, session: ConsoleSession, tenant_id: str) -> ConsoleSession:
        await self.store.set_session_tenant(session.token_hash, tenant_id)
        return replace(session, tenant_id=tenant_id)

    async def sign_out(self, session: ConsoleSession) -> None:
        await self.store.delete_session(session.token_hash)

    def anonymous_csrf(self, cookie: str | None) -> tuple[str, str]:
        """The double-submit token of the forms shown before sign-in (create admin, sign in):
        the token, and the signed cookie value that carries it."""
        if cookie:
            try:
                return self.signer.unsign(cookie).decode(), cookie
            except BadSignature:
                pass
        token = secrets.token_urlsafe(32)
        return token, self.signer.sign(token).decode()

    def check_anonymous_csrf(self, cookie: str | None, given: object) -> None:
        if not cookie:
            raise CsrfError()
        try:
            expected = self.signer.unsign(cookie).decode()
        except BadSignature:
            raise CsrfError() from None
        self.check_csrf(expected, given)
