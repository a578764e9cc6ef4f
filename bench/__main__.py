"""`make bench`: 1,000 concurrent sends through every built-in connector to a local fake provider,
then the service under load (`bench/service.py`); both sections go to bench/RESULTS.md.
`python -m bench failover` runs only the failover row (`bench/failover.py`) and prints it;
`python -m bench pumping` only the SMS pumping defence's (`bench/pumping.py`).

Each connector sends 1,000 messages at once through the shared client to a fake provider in
another process that answers after 50 ms. Reported: wall time, the client's CPU per message, and
the CPU per message of building the request alone (rendering, signing, encoding). The official
`twilio` SDK sends the same 1,000 messages with its async client, for comparison.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tests.servers import free_port

from bench import service
from bench.failover import bench_failover, failover_table
from bench.pumping import bench_pumping
from phoneauth.connectors import (
    ConnectorError,
    ConnectorFactory,
    ConnectorType,
    SmsMessage,
    UsageType,
    build_http_client,
    load_registry,
)
from phoneauth.connectors.http import HttpConnector

MESSAGES = 1000
WALL_TARGET_S = 2.0
BUILD_CPU_TARGET_US = 200.0
RESULTS = Path(__file__).with_name("RESULTS.md")
MESSAGE = SmsMessage(to="+4915112345678", usage_type=UsageType.SIGN_IN, payload={"code": "864209"})


@dataclass
class Row:
    name: str
    wall_s: float
    cpu_us: float
    build_us: float | None
    errors: int

    @property
    def ok(self) -> bool:
        build_ok = self.build_us is None or self.build_us <= BUILD_CPU_TARGET_US
        return self.errors == 0 and self.wall_s <= WALL_TARGET_S and build_ok


def start_fake(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "bench.fake_provider", str(port)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the fake provider did not start")


def bench_config(factory: ConnectorFactory[Any], base: str) -> dict[str, Any]:
    config = dict(factory.sample_config)
    if factory.provider_fake is not None:
        config["endpoint"] = f"{base}/f/{factory.id}"
        if factory.id == "gatewayapi-sms":
            config["endpoint"] += "/rest/mtsms"
    return config


async def bench_connector(factory: ConnectorFactory[Any], base: str) -> Row:
    async with build_http_client(allow_private_hosts=True) as client:  # the fake: 127.0.0.1
        connector = factory.build(bench_config(factory, base), client)
        build_us = None
        if isinstance(connector, HttpConnector):
            cpu = time.process_time()
            for _ in range(MESSAGES):
                connector.build_request(MESSAGE)
            build_us = (time.process_time() - cpu) / MESSAGES * 1e6
        await connector.send(MESSAGE)  # warm the pool's first connection and imports
        wall, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(
            *(connector.send(MESSAGE) for _ in range(MESSAGES)), return_exceptions=True
        )
        wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    errors = sum(isinstance(result, ConnectorError | Exception) for result in results)
    return Row(factory.id, wall_s, cpu_s / MESSAGES * 1e6, build_us, errors)


async def bench_twilio_sdk(base: str) -> Row:
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.rest import Client

    factory = load_registry().get("twilio-short-message-service")
    config = factory.sample_config
    http_client = AsyncTwilioHttpClient()
    client = Client(config["accountSID"], config["authToken"], http_client=http_client)
    client.api.base_url = f"{base}/f/{factory.id}"

    async def one() -> Any:
        return await client.messages.create_async(
            to=MESSAGE.to,
            messaging_service_sid=config["fromMessagingServiceSID"],
            body="Your sign-in verification code is 864209.",
        )

    await one()
    wall, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(one() for _ in range(MESSAGES)), return_exceptions=True)
    wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    await http_client.session.close() if http_client.session else None
    errors = sum(isinstance(result, Exception) for result in results)
    return Row("twilio SDK (async client)", wall_s, cpu_s / MESSAGES * 1e6, None, errors)


def table(rows: list[Row], twilio: Row, ours: Row) -> str:
    lines = [
        "| connector | wall for 1,000 (s) | client CPU / msg (µs) | build request CPU / msg (µs)"
        " | errors | target met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in [*rows, twilio]:
        build = "–" if row.build_us is None else f"{row.build_us:.0f}"
        met = "–" if row is twilio else ("yes" if row.ok else "**no**")
        lines.append(
            f"| {row.name} | {row.wall_s:.2f} | {row.cpu_us:.0f} | {build} | {row.errors} | {met} |"
        )
    lines.append("")
    lines.append(
        f"twilio SDK / phoneauth Twilio connector: wall {twilio.wall_s / ours.wall_s:.1f}×, "
        f"CPU per message {twilio.cpu_us / ours.cpu_us:.1f}×"
    )
    return "\n".join(lines)


async def bench_failover_only() -> str:
    """`python -m bench failover`: only the failover section, printed (RESULTS.md unchanged)."""
    port = free_port()
    fake = start_fake(port)
    try:
        rows = await bench_failover(f"http://127.0.0.1:{port}", MESSAGES, MESSAGE)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    return failover_table(rows, MESSAGES)


async def bench_connectors() -> tuple[str, bool]:
    """The connectors' and the failover sections of RESULTS.md, and whether every target of
    the connectors was met."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake = start_fake(port)
    try:
        # The SMS connectors: the email ones (SMTP, http-email) are not in this benchmark yet.
        factories = [
            f for f in load_registry() if f.id != "example-sms" and f.type is ConnectorType.SMS
        ]
        rows = [await bench_connector(factory, base) for factory in factories]
        twilio = await bench_twilio_sdk(base)
        failover = await bench_failover(base, MESSAGES, MESSAGE)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    ours = next(row for row in rows if row.name == "twilio-short-message-service")
    section = (
        "## Connectors\n\n"
        f"{MESSAGES:,} concurrent sends per connector through the shared client to a fake "
        "provider (another process on 127.0.0.1) "
        f"answering after 50 ms. Targets: ≤ {WALL_TARGET_S:.0f} s wall per 1,000 with zero errors; "
        f"≤ {BUILD_CPU_TARGET_US:.0f} µs CPU per message to render, sign and encode.\n\n"
        + table(rows, twilio, ours)
        + "\n\n"
        + failover_table(failover, MESSAGES)
    )
    return section, all(row.ok for row in rows)


def commit() -> str:
    def git(*args: str) -> str:
        command = ["git", *args]  # git from PATH, as make finds it
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", "src") else ""
    return f"`{git('rev-parse', '--short', 'HEAD') or 'unknown'}`{dirty}"


def machine() -> str:
    import platform

    return f"{platform.node()}: {os.cpu_count()} cores, {platform.platform()}"


def main() -> int:
    if sys.argv[1:] == ["failover"]:
        print(asyncio.run(bench_failover_only()))
        return 0
    if sys.argv[1:] == ["pumping"]:
        pumping, pumping_ok = asyncio.run(bench_pumping())
        print(pumping)
        return 0 if pumping_ok else 1
    connectors, connectors_ok = asyncio.run(bench_connectors())
    print(connectors)
    pumping, pumping_ok = asyncio.run(bench_pumping())
    print(pumping)
    under_load, service_ok = service.run()
    print(under_load)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.write_text(
        f"# Benchmark results\n\n`make bench`, {stamp}, commit {commit()}, on {machine()}.\n\n"
        + connectors
        + "\n\n"
        + pumping
        + "\n"
        + under_load
    )
    return 0 if connectors_ok and pumping_ok and service_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
