"""Redis killed under attack: the rate limits degrade to per-process counting, never to none.

Before, every counter call that failed let its request through: with Redis down, 200
concurrent sends to one number with a limit of 3 sent 200 SMS, wrong codes stopped locking the
number, and `/health` still said "ok". Here two instances share a database and a real
redis-server that the test starts on a spare port, kills mid-test and starts again.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment, deploy
from tests.security.sms_gateway import Gateway, allowing_local_gateways, serve_gateway, use_gateway

from phoneauth.settings import Settings

PHONE = "+4915112345678"
GUESSED = "+4915187654321"
LATER = "+4915199999999"
LIMIT = 3
BURST = 200
NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


@dataclass
class RedisServer:
    """A redis-server of the test's own (the shared one on 6379 is never touched)."""

    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is needed for this test"
        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not self._answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            assert self.process.poll() is None, "redis-server exited"
            time.sleep(0.02)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = RedisServer(port)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.kill()


@pytest.fixture
def settings(settings: Settings, redis_server: RedisServer) -> Settings:
    return allowing_local_gateways(settings.model_copy(update={"redis_url": redis_server.url}))


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with serve_gateway() as fast:
        yield fast


@pytest.fixture
def second(settings: Settings, deployment: Deployment) -> Iterator[Deployment]:
    """Another instance on the same database and the same Redis."""
    with deploy(settings) as other:
        yield other


@pytest.fixture
async def clients(
    deployment: Deployment, second: Deployment, gateway: Gateway
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """A Management API client per instance; the gateway is the SMS connector of both."""
    pool = httpx.Limits(max_connections=BURST)
    async with (
        local_http.async_client(
            base_url=deployment.url, headers=deployment.auth, timeout=30, limits=pool
        ) as first_client,
        local_http.async_client(
            base_url=second.url, headers=deployment.auth, timeout=30, limits=pool
        ) as second_client,
    ):
        await use_gateway(
            first_client,
            gateway,
            recipientLimit=LIMIT,
            ipLimit=10_000,
            countryLimit=100_000,
            failedVerificationLimit=2,
        )
        yield [first_client, second_client]


async def send(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post("/api/verification-codes", json={"phone": phone})


async def verify(client: httpx.AsyncClient, phone: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/verification-codes/verify", json={"phone": phone, "verificationCode": code}
    )


async def health(client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    response = await client.get("/health")
    body = response.json()
    body.pop("version")
    # No routing rules here: no circuit to count (the counts are tested in test_health).
    assert body.pop("smsCircuits") == {"closed": 0, "open": 0, "halfOpen": 0}
    return response.status_code, body


async def until_healthy(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 60
    while (await health(client))[1]["redis"] != "ok":
        assert time.monotonic() < deadline, "the instance never saw Redis come back"
        await asyncio.sleep(0.1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def lines(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "phoneauth.rate_limits" and text in record.getMessage()
    ]


async def test_with_redis_killed_each_instance_counts_on_its_own_and_shares_again_after(
    redis_server: RedisServer,
    clients: list[httpx.AsyncClient],
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    first, second = clients
    up = {"status": "ok", "database": "ok", "redis": "ok"}
    assert await health(first) == await health(second) == (200, up)

    redis_server.kill()

    # 200 concurrent sends to one number, half through each instance: 3 SMS per instance.
    burst = await asyncio.gather(*(send(clients[n % 2], PHONE) for n in range(BURST)))
    sent = [n % 2 for n, response in enumerate(burst) if response.status_code == 204]
    assert (sent.count(0), sent.count(1)) == (LIMIT, LIMIT)
    assert len(gateway.to(PHONE)) == 2 * LIMIT
    refused = [response for response in burst if response.status_code != 204]
    assert {(r.status_code, r.json()["code"]) for r in refused} == {
        (429, "request.message_rate_limited")
    }
    assert all(int(response.headers["retry-after"]) > 0 for response in refused)
    # Still serving, and saying so: 200 and "degraded", not "ok" (nor 503 on every instance).
    degraded = {"status": "degraded", "database": "ok", "redis": "degraded"}
    assert await health(first) == await health(second) == (200, degraded)

    # Wrong guesses still lock the number: the second wrong code locks it.
    assert (await send(first, GUESSED)).status_code == 204
    code = gateway.code(GUESSED)
    for _ in range(2):
        mismatch = await verify(first, GUESSED, wrong(code))
        assert mismatch.json()["code"] == "verification_code.code_mismatch"
    locked = await verify(first, GUESSED, code)
    assert (locked.status_code, locked.json()["code"]) == (
        429,
        "session.verification_blocked_too_many_attempts",
    )
    # One line per instance for the outage, not one per request.
    assert len(lines(caplog, "counters unreachable")) == 2

    redis_server.start()
    await until_healthy(first)
    await until_healthy(second)
    assert len(lines(caplog, "counters are back")) == 2

    # Shared again: three sends to a new number across both instances, then the limit.
    for client in (first, second, first):
        assert (await send(client, LATER)).status_code == 204
    over = await send(second, LATER)
    assert (over.status_code, over.json()["code"]) == (429, "request.message_rate_limited")
    assert len(gateway.to(LATER)) == LIMIT
    # A lock from the outage outlives it (this instance remembers it).
    still = await verify(first, GUESSED, code)
    assert still.json()["code"] == "session.verification_blocked_too_many_attempts"
    assert len(lines(caplog, "counters unreachable")) == 2
