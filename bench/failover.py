"""The failover row of `make bench`: 1,000 concurrent sends while the active provider fails.

The active Twilio connector points at a fake that answers 503 at once; the standby Twilio
connector at the fake that answers after 50 ms. Every send goes through phoneauth's router
(rules: the active connector, then the standby), with its deadline and circuit breakers, and is
compared with the plain path (no rules: one attempt). The message log's writes are left out:
this measures the routing, not the database. All 1,000 start before any failure is known, so
each tries the failing provider first: the breaker cannot spare them (it spares later sends).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from phoneauth.connectors import (
    Connector,
    ConnectorError,
    SendResult,
    SmsMessage,
    build_http_client,
    load_registry,
)
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.sms_router import NO_ROUTING, SmsRouter, StoredStandby, TenantRouting
from phoneauth.domain.sms_routing import RoutingRules

TWILIO = "twilio-short-message-service"


@dataclass
class FailoverRow:
    name: str
    wall_s: float
    delivered: int
    cpu_us: float


class _Routing:
    def __init__(self, rules: RoutingRules | None, standby: Connector) -> None:
        stamp = datetime.now(UTC)
        self.rows = (StoredStandby("standby", "bench", TWILIO, "", stamp, stamp),)
        self.rules = rules
        self.standby = standby

    async def routing(self, tenant_id: str) -> TenantRouting:
        return NO_ROUTING if self.rules is None else TenantRouting(self.rules, self.rows)

    def build_standby(self, tenant_id: str, row: StoredStandby) -> Connector:
        return self.standby


async def _record(
    connector: ActiveConnector,
    attempt: int,
    error: ConnectorError | None,
    result: SendResult | None,
    started: float,
) -> None:
    return None


async def _run(
    name: str, router: SmsRouter, active: ActiveConnector, messages: int, message: SmsMessage
) -> FailoverRow:
    async def one() -> object:
        plan = await router.plan("bench", active, message.to)
        return await router.deliver(plan, message, _record)

    await asyncio.gather(one(), return_exceptions=True)  # warm the pool and imports
    router.breakers = type(router.breakers)()  # the warm-up's failure is forgotten
    wall, cpu = time.perf_counter(), time.process_time()
    results = await asyncio.gather(*(one() for _ in range(messages)), return_exceptions=True)
    wall_s, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    delivered = sum(not isinstance(result, BaseException) for result in results)
    return FailoverRow(name, wall_s, delivered, cpu_s / messages * 1e6)


async def bench_failover(base: str, messages: int, message: SmsMessage) -> list[FailoverRow]:
    factory = load_registry().get(TWILIO)
    async with build_http_client(allow_private_hosts=True) as client:
        healthy = factory.build({**factory.sample_config, "endpoint": f"{base}/f/{TWILIO}"}, client)
        failing = factory.build({**factory.sample_config, "endpoint": f"{base}/fail"}, client)
        plain_routing = _Routing(None, healthy)
        plain = await _run(
            "plain: no rules, the provider answers after 50 ms",
            SmsRouter(plain_routing, plain_routing),
            ActiveConnector("active", TWILIO, healthy),
            messages,
            message,
        )
        routed = _Routing(RoutingRules(fallback=("standby",)), healthy)
        failover = await _run(
            "failover: the active provider answers 503, the standby after 50 ms",
            SmsRouter(routed, routed),
            ActiveConnector("active", TWILIO, failing),
            messages,
            message,
        )
    return [plain, failover]


def failover_table(rows: list[FailoverRow], messages: int) -> str:
    lines = [
        "## Failover\n",
        f"{messages:,} concurrent sends through phoneauth's router (Twilio connectors, the shared "
        "client, the fake provider above; no database writes).\n",
        f"| path | wall for {messages:,} (s) | SMS delivered | client CPU / msg (µs) |",
        "|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row.name} | {row.wall_s:.2f} | {row.delivered:,} | {row.cpu_us:.0f} |")
    return "\n".join(lines) + "\n"
