"""What wrk cannot chain, from an aiohttp client on 32 connections ("lanes"):

- codes read back from the development outbox (`GET /api/outbox`, as the tests do);
- fresh interaction cookies (`PUT /api/experience`) for wrk's Experience send-code run;
- whole registrations and sign-ins by code, as a browser makes them.

The outbox lives in each server process's memory, so with several workers a lane reads it over
its own keep-alive connection, from the worker that sent its codes: every lane is a session with
exactly one connection.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

LANES = 32
OUTBOX_SIZE = 1_000  # the development outbox keeps a tenant's newest 1,000 messages (per process)
INTERACTION_COOKIE = "phoneauth_interaction"
SEND = "/api/experience/verification/verification-code"


@asynccontextmanager
async def lanes(url: str, count: int = LANES) -> AsyncIterator[list[aiohttp.ClientSession]]:
    sessions = [
        aiohttp.ClientSession(
            url,
            connector=aiohttp.TCPConnector(limit=1),
            cookie_jar=aiohttp.DummyCookieJar(),  # cookies are handled by hand, per interaction
            timeout=aiohttp.ClientTimeout(total=30),
        )
        for _ in range(count)
    ]
    try:
        yield sessions
    finally:
        await asyncio.gather(*(session.close() for session in sessions))


def phone(number: int) -> str:
    return f"+49151{number:08d}"


async def _error(response: aiohttp.ClientResponse) -> str:
    try:
        code = (await response.json()).get("code", "?")
    except (aiohttp.ContentTypeError, ValueError):
        code = "?"
    return f"{response.status} {code}"


async def issue_codes(url: str, key: str, first: int, count: int) -> list[tuple[str, str]]:
    """Send `count` Management API codes, reading each 1,000 back from the outbox; (phone, code)."""
    admin = {"Authorization": f"Bearer {key}"}
    issued: list[tuple[str, str]] = []
    async with lanes(url) as sessions:

        async def send(session: aiohttp.ClientSession, numbers: Iterator[int]) -> None:
            for number in numbers:
                body = {"phone": phone(number)}
                async with session.post(
                    "/api/verification-codes", json=body, headers=admin
                ) as response:
                    if response.status != 204:
                        raise RuntimeError(f"send-code answered {await _error(response)}")

        async def read(session: aiohttp.ClientSession) -> dict[str, str]:
            async with session.get("/api/outbox", headers=admin) as response:
                return {message["to"]: message["code"] for message in await response.json()}

        while len(issued) < count:
            batch = range(first, first + min(OUTBOX_SIZE, count - len(issued)))
            first += len(batch)
            numbers = iter(batch)
            await asyncio.gather(*(send(session, numbers) for session in sessions))
            kept: dict[str, str] = {}
            for found in await asyncio.gather(*(read(session) for session in sessions)):
                kept.update(found)
            missing = [number for number in batch if phone(number) not in kept]
            if missing:
                raise RuntimeError(f"the outbox did not keep {len(missing)} messages")
            issued += [(phone(number), kept[phone(number)]) for number in batch]
    return issued


async def interaction_cookies(url: str, count: int, seconds: float) -> list[str]:
    """Up to `count` fresh sign-in interactions, started in at most `seconds`: their cookies."""
    cookies: list[str] = []
    stop = time.monotonic() + seconds
    async with lanes(url) as sessions:

        async def start(session: aiohttp.ClientSession) -> None:
            while len(cookies) < count and time.monotonic() < stop:
                body = {"interactionEvent": "SignIn"}
                async with session.put("/api/experience", json=body) as response:
                    if response.status != 204:
                        raise RuntimeError(f"PUT /api/experience answered {response.status}")
                    cookies.append(response.cookies[INTERACTION_COOKIE].value)

        await asyncio.gather(*(start(session) for session in sessions))
    return cookies[:count]


async def sign_in(session: aiohttp.ClientSession, key: str, to: str, event: str) -> str | None:
    """One whole sign-in (or registration) by code; None, or what went wrong."""
    async with session.put("/api/experience", json={"interactionEvent": event}) as response:
        if response.status != 204:
            return f"start: {await _error(response)}"
        cookie = {"Cookie": f"{INTERACTION_COOKIE}={response.cookies[INTERACTION_COOKIE].value}"}
    identifier = {"type": "phone", "value": to}
    body: dict[str, Any] = {"identifier": identifier, "interactionEvent": event}
    async with session.post(SEND, json=body, headers=cookie) as response:
        if response.status != 200:
            return f"send code: {await _error(response)}"
        verification_id = (await response.json())["verificationId"]
    admin = {"Authorization": f"Bearer {key}"}
    async with session.get("/api/outbox", params={"phone": to}, headers=admin) as response:
        messages = await response.json() if response.status == 200 else []
    if not messages:
        return f"read code: {response.status}, no message"
    body = {
        "identifier": identifier,
        "verificationId": verification_id,
        "code": messages[0]["code"],
    }
    async with session.post(SEND + "/verify", json=body, headers=cookie) as response:
        if response.status != 200:
            return f"verify: {await _error(response)}"
    body = {"verificationId": verification_id}
    async with session.post("/api/experience/identification", json=body, headers=cookie) as r:
        if r.status != (201 if event == "Register" else 204):
            return f"identify: {await _error(r)}"
    async with session.post("/api/experience/submit", json={}, headers=cookie) as response:
        if response.status != 200 or "accessToken" not in await response.json():
            return f"submit: {await _error(response)}"
    return None


async def register(url: str, key: str, numbers: range) -> None:
    """Each number becomes a user, by the whole registration flow."""
    async with lanes(url) as sessions:
        queue = iter(numbers)

        async def work(session: aiohttp.ClientSession) -> None:
            for number in queue:
                failure = await sign_in(session, key, phone(number), "Register")
                if failure is not None:
                    raise RuntimeError(f"registering {phone(number)}: {failure}")

        await asyncio.gather(*(work(session) for session in sessions))


@dataclass
class SignIns:
    seconds: float
    completed: int = 0
    finished: int = 0  # every whole sign-in tried, warm-up included
    latencies_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def percentile(self, share: float) -> float:
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[
            round(share * 100) - 1
        ]

    @property
    def unexpected(self) -> int:
        return sum(self.failures.values())


async def sign_ins(url: str, key: str, users: range, warmup_s: float, seconds: float) -> SignIns:
    """Sign-ins by code from 32 concurrent users for `warmup_s`, then `seconds` measured:
    sign-ins finished in the window, and their latency. Each lane signs in its own registered
    numbers in turn (a new code for a number replaces the one before: no two lanes share one)."""
    result = SignIns(seconds)
    async with lanes(url) as sessions:
        begin = time.perf_counter() + warmup_s
        end = begin + seconds
        cpu = 0.0

        async def user(lane: int, session: aiohttp.ClientSession) -> None:
            own = users[lane :: len(sessions)]
            turn = 0
            while (started := time.perf_counter()) < end:
                to = phone(own[turn % len(own)])
                turn += 1
                failure = await sign_in(session, key, to, "SignIn")
                finished = time.perf_counter()
                result.finished += 1
                if not begin <= finished <= end:
                    continue
                if failure is None:
                    result.completed += 1
                    result.latencies_ms.append((finished - started) * 1000)
                else:
                    result.failures[failure] = result.failures.get(failure, 0) + 1

        async def client_cpu() -> None:
            nonlocal cpu
            await asyncio.sleep(warmup_s)
            cpu = time.process_time()
            await asyncio.sleep(seconds)
            result.client_cpu_s = time.process_time() - cpu

        await asyncio.gather(client_cpu(), *(user(i, s) for i, s in enumerate(sessions)))
    return result
