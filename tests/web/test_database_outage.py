"""A PostgreSQL outage under load: coded 503s, one log line each way, nothing acknowledged lost.

The test starts a PostgreSQL cluster of its own on a spare port (the shared server on 5432 is
never touched), serves the app on it, sends codes to new numbers from a few concurrent clients
and stops the cluster (`pg_ctl stop -m fast`, as an administrator or a failover would) in the
middle. While it is down every request must answer `503 server.unavailable` with `Retry-After`,
and `/health` 503 naming the database; once it is started again the same app, without a
restart, must answer again, and every code it acknowledged (204) must still verify.
"""

from __future__ import annotations

import asyncio
import glob
import logging
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import upgrade
from phoneauth.web.app import create_app
from phoneauth.wiring import Services

WORKERS = 4
PG_USER = "postgres"


def _pg_bin() -> Path:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", Path(p).parts[4])],
    )
    if not found:
        pytest.fail("PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) are required")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A throw-away PostgreSQL cluster run as the `postgres` OS user (initdb refuses root)."""

    bin: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/phoneauth"

    def run(self, tool: str, *args: str, timeout: float = 30) -> None:
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(command, timeout=timeout, capture_output=True, text=True)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        log = str(self.root / "server.log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="phoneauth-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)
    cluster = Cluster(_pg_bin(), root, _free_port())
    try:
        cluster.run(
            "initdb",
            "-D",
            str(cluster.data),
            "-U",
            PG_USER,
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        for attempt in range(3):  # the spare port may be taken between finding and using it
            try:
                cluster.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                cluster.port = _free_port()
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", PG_USER, "phoneauth"
        )
        yield cluster
    finally:
        try:
            if cluster.is_running():
                cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def served(
    cluster: Cluster, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """The app on the cluster (migrated first), with the outbox as the SMS connector."""
    migrated = open_database(cluster.url)
    await upgrade(migrated.engine)
    await migrated.dispose()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=cluster.url,
        secret_key=SecretStr("test-secret-key"),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        _, key = await services.admin_keys.create("tests")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://phoneauth.test",
            headers={"Authorization": f"Bearer {key}"},
        ) as client:
            created = await client.post("/api/connectors", json={"connectorId": "outbox-sms"})
            assert created.status_code == 200, created.text
            # One client sends everything here: its address and country may send that much.
            limits = {
                "rateLimits": {"ipLimit": 100_000, "countryLimit": 100_000},
                # The load is sequential numbers never verified: what the pumping defence stops.
                "smsProtection": {"prefixLimit": 0, "conversionThreshold": 0},
            }
            patched = await client.patch("/api/tenant/settings", json=limits)
            assert patched.status_code == 200, patched.text
            yield client, services


@dataclass
class Load:
    """What the senders saw, by phone number."""

    acknowledged: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(10**6)))

    def next_phone(self) -> str:
        return f"+4915{next(self.numbers):09d}"


def is_unavailable(response: httpx.Response) -> bool:
    return (
        response.status_code == 503
        and response.headers.get("retry-after") == "5"
        and response.json()["code"] == "server.unavailable"
    )


async def send_codes(client: httpx.AsyncClient, load: Load, until: asyncio.Event) -> None:
    """Send codes to new numbers until `until` is set, an answer is wrong, or 40 s or 3000
    sends have passed."""
    deadline = time.monotonic() + 40
    while (
        not until.is_set()
        and not load.wrong
        and time.monotonic() < deadline
        and len(load.acknowledged) + len(load.unavailable) < 3000
    ):
        phone = load.next_phone()
        response = await client.post("/api/verification-codes", json={"phone": phone})
        if response.status_code == 204:
            load.acknowledged.append(phone)
        elif is_unavailable(response):
            load.unavailable.append(phone)
            await asyncio.sleep(0.02)  # a client honouring Retry-After would wait longer
        else:
            load.wrong.append(f"{phone}: {response.status_code} {response.text[:200]}")


async def wait_for(condition: Callable[[], bool], senders: list[asyncio.Task[None]]) -> None:
    """Until `condition` holds (the senders stopping early is for the assertions to report)."""
    for _ in range(2000):  # 20 s at most
        if condition() or all(sender.done() for sender in senders):
            return
        await asyncio.sleep(0.01)
    pytest.fail("the load did not get there in 20 s")


async def test_a_postgresql_outage_is_a_coded_503_and_loses_nothing_acknowledged(
    cluster: Cluster,
    served: tuple[httpx.AsyncClient, Services],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _services = served
    caplog.set_level(logging.INFO)
    load = Load()
    stop_load = asyncio.Event()
    senders = [asyncio.create_task(send_codes(client, load, stop_load)) for _ in range(WORKERS)]
    try:
        # Mid-load: the cluster stops while requests are in flight.
        await wait_for(lambda: len(load.acknowledged) >= 30, senders)
        await asyncio.to_thread(cluster.stop, "fast")
        acknowledged_before_restart = len(load.acknowledged)
        unavailable_at_stop = len(load.unavailable)
        await wait_for(lambda: len(load.unavailable) >= unavailable_at_stop + 20, senders)

        # Down: every kind of request is a coded 503, /health names the database.
        health = await client.get("/health")
        assert health.status_code == 503
        assert (health.json()["status"], health.json()["database"]) == (
            "unavailable",
            "unavailable",
        )
        assert health.headers["retry-after"] == "5"
        verify = await client.post(
            "/api/verification-codes/verify",
            json={"phone": load.acknowledged[0], "verificationCode": "123456"},
        )
        assert is_unavailable(verify), verify.text
        assert is_unavailable(await client.get("/api/connectors"))
        # A person's page stays a page, in words, with when to try again.
        for path in ("/sign-in", "/register", "/oidc/auth/some-sign-in"):
            page = await client.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 503, (path, page.text[:300])
            assert page.headers["content-type"].startswith("text/html"), path
            assert page.headers["retry-after"] == "5"
            assert "try again in a moment" in page.text, path

        # Back: the same app answers again, from the very first request.
        await asyncio.to_thread(cluster.start)
        health = await client.get("/health")
        assert health.status_code == 200, health.text
        assert health.json()["database"] == "ok"
        phone = load.next_phone()
        sent = await client.post("/api/verification-codes", json={"phone": phone})
        assert sent.status_code == 204, sent.text
        load.acknowledged.append(phone)
        acknowledged_at_restart = len(load.acknowledged)
        await wait_for(lambda: len(load.acknowledged) >= acknowledged_at_restart + 20, senders)
    finally:
        stop_load.set()
        await asyncio.gather(*senders)

    assert load.wrong == []
    assert acknowledged_before_restart >= 30
    assert len(load.unavailable) >= 20
    assert len(load.acknowledged) >= acknowledged_at_restart + 20
    # Nothing acknowledged is lost: every 204's code verifies, before and after the outage.
    for phone in load.acknowledged:
        messages = (await client.get("/api/outbox", params={"phone": phone})).json()
        body = {"phone": phone, "verificationCode": messages[0]["code"]}
        verified = await client.post("/api/verification-codes/verify", json=body)
        assert verified.status_code == 204, (phone, verified.text)

    # One line when it went away and one when it was back; no traceback, no 500.
    lines = [r for r in caplog.records if r.name == "phoneauth.database"]
    assert [r.getMessage().split(" (")[0].split(" after")[0] for r in lines] == [
        "database unavailable",
        "database is back",
    ], [r.getMessage() for r in lines]
    # No traceback at all: a request under way as the server stopped (its SMS out, its message
    # log row not written) says so in one warning line.
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks == []
