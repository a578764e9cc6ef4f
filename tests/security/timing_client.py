"""The attacker's side of `test_enumeration_timing`, run in a process of its own.

In the test's process the client would share the interpreter lock with the server's thread:
work the server starts after its answer (the background SMS) would then delay the client's
reading of that answer, a cost no client elsewhere sees. Prints one JSON object: the seconds
each send took, per number.

    python -m tests.security.timing_client URL EVENT ROUNDS KNOWN UNKNOWN
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx
from tests import local_http

WARM_UP = 2  # rounds not counted: first-use costs (pools, caches) for both numbers


async def timed_send(client: httpx.AsyncClient, phone: str, event: str) -> float:
    started = time.perf_counter()
    response = await client.post(
        "/api/experience/verification/verification-code",
        json={"identifier": {"type": "phone", "value": phone}, "interactionEvent": event},
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 200 or sorted(response.json()) != ["verificationId"]:
        raise SystemExit(f"unexpected answer {response.status_code}: {response.text}")
    return elapsed


async def measure(url: str, event: str, rounds: int, known: str, unknown: str) -> None:
    times: dict[str, list[float]] = {known: [], unknown: []}
    async with local_http.async_client(base_url=url, timeout=30) as client:
        started = await client.put("/api/experience", json={"interactionEvent": event})
        if started.status_code != 204:
            raise SystemExit(f"interaction not started: {started.status_code} {started.text}")
        for _ in range(WARM_UP):
            await timed_send(client, known, event)
            await timed_send(client, unknown, event)
        for round_ in range(rounds):
            # Alternating, and each pair in both orders, so drift hits both numbers alike.
            pair = [known, unknown] if round_ % 2 == 0 else [unknown, known]
            for phone in pair:
                times[phone].append(await timed_send(client, phone, event))
    print(json.dumps({"known": times[known], "unknown": times[unknown]}))


if __name__ == "__main__":
    url, event, rounds, known, unknown = sys.argv[1:6]
    asyncio.run(measure(url, event, int(rounds), known, unknown))
