"""A locked SQLite database is a coded `503 server.busy` with `Retry-After` on every write path,
never a 500, and the same request succeeds once the lock is gone.

The lock is taken as another process would take it: `BEGIN IMMEDIATE` on the database file
from a connection of the standard `sqlite3` module, held while the app is called."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from phoneauth.storage import database as database_module
from phoneauth.wiring import Services

PHONE = "+4915112345678"
PASSWORD = "console password 1"

Call = Callable[[], Awaitable[httpx.Response]]

pytestmark = pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database_module, "BUSY_TIMEOUT_S", 0.2)


@contextmanager
def write_lock(path: str) -> Iterator[None]:
    """The database's write lock, held by another connection until the block ends."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
    finally:
        other.close()


@pytest.fixture
def database_file(services: Services) -> str:
    path = services.database.url.split("///", 1)[1]
    assert Path(path).is_file()
    return path


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An anonymous client with its own cookie jar (an end user's, or the console's)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


async def busy_then_done(
    path: str, name: str, call: Call, expected: int, *, page: bool = False
) -> httpx.Response:
    """`call` answers 503 server.busy with Retry-After while the lock is held (a console `page`:
    503 in words), then `expected` once it is released."""
    with write_lock(path):
        busy = await call()
    assert busy.status_code == 503, f"{name}: {busy.status_code} {busy.text[:300]}"
    if page:
        assert busy.headers["content-type"].startswith("text/html"), name
        assert "try again in a moment" in busy.text, name
    else:
        assert busy.headers.get("retry-after") == "1", f"{name}: {busy.headers}"
        assert busy.json()["code"] == "server.busy", name
    done = await call()
    assert done.status_code == expected, f"{name} after the lock: {done.status_code} {done.text}"
    return done


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def test_every_management_write_is_busy_while_locked_then_succeeds(
    api: httpx.AsyncClient, services: Services, database_file: str
) -> None:
    path = database_file

    async def check(name: str, call: Call, expected: int) -> httpx.Response:
        return await busy_then_done(path, name, call, expected)

    await check(
        "create connector",
        lambda: api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}}),
        200,
    )
    await check(
        "send code", lambda: api.post("/api/verification-codes", json={"phone": PHONE}), 204
    )
    sent = (await api.get("/api/outbox", params={"phone": PHONE})).json()
    body = {"phone": PHONE, "verificationCode": sent[0]["code"]}
    await check("verify code", lambda: api.post("/api/verification-codes/verify", json=body), 204)

    other = (await api.post("/api/connectors", json={"connectorId": "outbox-sms"})).json()
    await check(
        "patch connector",
        lambda: api.patch(f"/api/connectors/{other['id']}", json={"config": {}}),
        200,
    )
    await check(
        "delete connector",
        lambda: api.delete(f"/api/connectors/{other['id']}", params={"force": "true"}),
        204,
    )
    await check(
        "patch sign-in experience",
        lambda: api.patch("/api/sign-in-exp", json={"signInMode": "SignIn"}),
        200,
    )
    await check(
        "patch tenant settings",
        lambda: api.patch(
            "/api/tenant/settings", json={"verificationCodePolicy": {"maxRetryAttempts": 5}}
        ),
        200,
    )
    await check(
        "create tenant", lambda: api.post("/api/tenants", json={"id": "acme", "name": "Acme"}), 201
    )
    await check(
        "create organization", lambda: api.post("/api/organizations", json={"name": "Acme"}), 201
    )
    user = await services.users.create("default", phone="+4915187654321")
    await check("delete user", lambda: api.delete(f"/api/users/{user.id}"), 204)
    # Reads need no write lock (WAL): they go on while another process writes.
    with write_lock(path):
        assert (await api.get("/api/connectors")).status_code == 200
        assert (await api.get("/api/sign-in-exp")).json()["signInMode"] == "SignIn"


async def test_experience_writes_are_busy_while_locked_then_succeed(
    api: httpx.AsyncClient, browser: httpx.AsyncClient, database_file: str
) -> None:
    path = database_file
    assert (
        await api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    ).status_code == 200
    await busy_then_done(
        path,
        "start interaction",
        lambda: browser.put("/api/experience", json={"interactionEvent": "SignIn"}),
        204,
    )
    body = {"identifier": {"type": "phone", "value": PHONE}, "interactionEvent": "SignIn"}
    await busy_then_done(
        path,
        "experience send code",
        lambda: browser.post("/api/experience/verification/verification-code", json=body),
        200,
    )


async def test_console_form_posts_are_busy_while_locked_then_succeed(
    browser: httpx.AsyncClient, database_file: str, services: Services
) -> None:
    path = database_file
    page = await browser.get("/console/setup")
    form = {
        "csrf": csrf_of(page.text),
        "setup_token": await services.console.setup_tokens.issue(),
        "username": "admin",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    await busy_then_done(
        path, "console setup", lambda: browser.post("/console/setup", data=form), 303, page=True
    )
    csrf = csrf_of((await browser.get("/console/tenants")).text)
    tenant = {"csrf": csrf, "id": "acme", "name": "Acme", "kind": "development"}
    await busy_then_done(
        path,
        "console create tenant",
        lambda: browser.post("/console/tenants", data=tenant),
        303,
        page=True,
    )


async def test_a_busy_console_page_says_when_to_come_back(
    browser: httpx.AsyncClient, database_file: str, services: Services
) -> None:
    page = await browser.get("/console/setup")
    form = {"csrf": csrf_of(page.text), "username": "admin", "password": PASSWORD}
    form["setup_token"] = await services.console.setup_tokens.issue()
    form["password_again"] = PASSWORD
    with write_lock(database_file):
        busy = await browser.post("/console/setup", data=form)
    assert busy.status_code == 503
    assert busy.headers.get("retry-after") == "1"
