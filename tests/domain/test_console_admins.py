"""The console's admin rules on both databases: first admin once and only with the setup token,
sessions, expiry, CSRF."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest

from phoneauth.domain import console_admins
from phoneauth.domain.console_admins import (
    AdminExistsError,
    ConsoleAdmins,
    CsrfError,
    InvalidCredentialsError,
    InvalidUsernameError,
    NotSignedInError,
    TooManyAttemptsError,
)
from phoneauth.domain.console_setup import SETUP_TOKEN_PREFIX, InvalidSetupTokenError
from phoneauth.domain.passwords import PasswordRejectedError, decoy_hash, verify_password
from phoneauth.storage.database import open_database
from phoneauth.storage.repositories.console import SqlConsoleAdminStore

KEY = b"k" * 32
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(migrated_database: DatabaseUnderTest) -> AsyncIterator[SqlConsoleAdminStore]:
    database = open_database(migrated_database.url, schema=migrated_database.schema)
    try:
        yield SqlConsoleAdminStore(database)
    finally:
        await database.dispose()


async def test_the_first_admin_is_created_once_even_by_racing_browsers(
    store: SqlConsoleAdminStore,
) -> None:
    admins = ConsoleAdmins(store, KEY)
    assert await admins.needs_first_admin()
    token = await admins.setup_tokens.issue()
    results = await asyncio.gather(
        *(admins.create_first_admin(f"admin{i}", PASSWORD, token) for i in range(5)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, AdminExistsError) for r in results if r not in created)
    assert not await admins.needs_first_admin()
    with pytest.raises(AdminExistsError):
        await admins.create_first_admin("another", PASSWORD, token)
    stored = await store.find(created[0].username)
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


async def test_the_first_admin_needs_a_username_and_a_real_password(
    store: SqlConsoleAdminStore,
) -> None:
    admins = ConsoleAdmins(store, KEY)
    token = await admins.setup_tokens.issue()
    with pytest.raises(InvalidUsernameError):
        await admins.create_first_admin("a b", PASSWORD, token)
    with pytest.raises(PasswordRejectedError):
        await admins.create_first_admin("admin", "short", token)
    with pytest.raises(PasswordRejectedError):
        await admins.create_first_admin("admin", "12345678", token)
    assert await admins.needs_first_admin()
    assert await admins.setup_tokens.waiting()  # refused input does not use up the token


async def test_the_first_admin_needs_the_setup_token_which_it_consumes(
    store: SqlConsoleAdminStore,
) -> None:
    admins = ConsoleAdmins(store, KEY)
    for given in (None, "", "setup_guess", 42):  # no token has been made yet
        with pytest.raises(InvalidSetupTokenError):
            await admins.create_first_admin("admin", PASSWORD, given)
    token = await admins.setup_tokens.issue()
    assert token.startswith(SETUP_TOKEN_PREFIX)
    assert len(token) >= len(SETUP_TOKEN_PREFIX) + 32  # 192 random bits, URL-safe base64
    assert await store.setup_token_hash() not in (None, token)  # only its hash is stored
    for given in (None, "", token[:-1], token + "x", token.upper()):
        with pytest.raises(InvalidSetupTokenError):
            await admins.create_first_admin("admin", PASSWORD, given)
    assert await admins.needs_first_admin()
    await admins.create_first_admin("admin", PASSWORD, f"  {token}\n")  # as pasted
    assert not await admins.setup_tokens.waiting()
    with pytest.raises(AdminExistsError):
        await admins.create_first_admin("admin2", PASSWORD, token)
    with pytest.raises(AdminExistsError):  # no new token once the admin exists
        await admins.setup_tokens.issue()
    assert await admins.setup_tokens.at_first_start() is None


async def test_the_first_start_makes_one_token_and_a_new_one_replaces_it(
    store: SqlConsoleAdminStore,
) -> None:
    admins = ConsoleAdmins(store, KEY)
    starts = await asyncio.gather(*(admins.setup_tokens.at_first_start() for _ in range(4)))
    printed = [token for token in starts if token is not None]
    assert len(printed) == 1  # processes starting at once print one token between them
    assert await admins.setup_tokens.at_first_start() is None  # a restart prints none
    fresh = await admins.setup_tokens.issue()
    assert fresh != printed[0]
    with pytest.raises(InvalidSetupTokenError):  # the replaced token no longer works
        await admins.create_first_admin("admin", PASSWORD, printed[0])
    await admins.create_first_admin("admin", PASSWORD, fresh)


async def test_sign_in_session_expiry_tenant_and_sign_out(store: SqlConsoleAdminStore) -> None:
    clock = Clock()
    admins = ConsoleAdmins(store, KEY, clock=clock, lifetime=timedelta(hours=1))
    await admins.create_first_admin("admin", PASSWORD, await admins.setup_tokens.issue())
    with pytest.raises(InvalidCredentialsError):
        await admins.sign_in("admin", "wrong password", "default")
    with pytest.raises(InvalidCredentialsError):
        await admins.sign_in("nobody", PASSWORD, "default")

    session, cookie = await admins.sign_in("admin", PASSWORD, "default")
    assert (await admins.authenticate(cookie)).username == "admin"
    moved = await admins.select_tenant(session, "acme")
    assert moved.tenant_id == "acme"
    assert (await admins.authenticate(cookie)).tenant_id == "acme"

    clock.now += timedelta(minutes=59)
    await admins.authenticate(cookie)
    clock.now += timedelta(minutes=1)
    with pytest.raises(NotSignedInError):
        await admins.authenticate(cookie)

    clock.now += timedelta(minutes=1)
    session, cookie = await admins.sign_in("admin", PASSWORD, "default")
    await admins.sign_out(session)
    with pytest.raises(NotSignedInError):
        await admins.authenticate(cookie)


async def test_an_unknown_username_costs_a_password_check_as_a_wrong_password_does(
    store: SqlConsoleAdminStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return verify_password(password_hash, password)

    monkeypatch.setattr(console_admins, "verify_password", counting)
    admins = ConsoleAdmins(store, KEY, clock=Clock())
    await admins.create_first_admin("admin", PASSWORD, await admins.setup_tokens.issue())
    for username in ("nobody", "admin"):
        with pytest.raises(InvalidCredentialsError):
            await admins.sign_in(username, "wrong password", "default")
    assert checked[0] == decoy_hash()
    assert checked[1].startswith("$argon2id$")
    assert checked[1] != decoy_hash()
    assert not verify_password(decoy_hash(), PASSWORD)


async def test_forged_or_missing_session_cookies_are_refused(store: SqlConsoleAdminStore) -> None:
    admins = ConsoleAdmins(store, KEY)
    await admins.create_first_admin("admin", PASSWORD, await admins.setup_tokens.issue())
    _, cookie = await admins.sign_in("admin", PASSWORD, "default")
    token = cookie.rsplit(".", 1)[0]
    other_key = ConsoleAdmins(store, b"x" * 32)
    for forged in (None, "", token, token + ".AAAA", cookie + "x"):
        with pytest.raises(NotSignedInError):
            await admins.authenticate(forged)
    with pytest.raises(NotSignedInError):
        await other_key.authenticate(cookie)


async def test_csrf_tokens_are_per_session_and_checked(store: SqlConsoleAdminStore) -> None:
    admins = ConsoleAdmins(store, KEY)
    await admins.create_first_admin("admin", PASSWORD, await admins.setup_tokens.issue())
    first, _ = await admins.sign_in("admin", PASSWORD, "default")
    second, _ = await admins.sign_in("admin", PASSWORD, "default")
    assert first.csrf_token != second.csrf_token
    admins.check_csrf(first.csrf_token, first.csrf_token)
    for given in (None, "", second.csrf_token, first.csrf_token[:-1], 42):
        with pytest.raises(CsrfError):
            admins.check_csrf(first.csrf_token, given)


def test_forms_before_sign_in_carry_a_double_submit_token() -> None:
    admins = ConsoleAdmins(store=None, cookie_key=KEY)  # type: ignore[arg-type]
    token, cookie = admins.anonymous_csrf(None)
    assert admins.anonymous_csrf(cookie) == (token, cookie)
    admins.check_anonymous_csrf(cookie, token)
    fresh, _ = admins.anonymous_csrf("forged")
    assert fresh != token
    for cookie_value, given in ((None, token), (cookie, "other"), ("forged", token)):
        with pytest.raises(CsrfError):
            admins.check_anonymous_csrf(cookie_value, given)


async def test_guessing_passwords_pauses_sign_in_for_that_username(
    store: SqlConsoleAdminStore,
) -> None:
    clock = Clock()
    admins = ConsoleAdmins(store, KEY, clock=clock)
    await admins.create_first_admin("admin", PASSWORD, await admins.setup_tokens.issue())
    for _ in range(10):
        with pytest.raises(InvalidCredentialsError):
            await admins.sign_in("admin", "guess", "default")
    with pytest.raises(TooManyAttemptsError) as paused:
        await admins.sign_in("admin", PASSWORD, "default")
    assert paused.value.status == 429
    assert "15 minute" in paused.value.message
    clock.now += timedelta(minutes=15, seconds=1)
    await admins.sign_in("admin", PASSWORD, "default")
    with pytest.raises(InvalidCredentialsError):  # a success forgets the failures
        await admins.sign_in("admin", "guess", "default")
