"""The router alone, with connectors in memory: order, circuits, stops, the deadline."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from phoneauth.connectors import ConnectorError, SendResult, SmsMessage, UsageType
from phoneauth.connectors.errors import (
    ConnectorTimeoutError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
)
from phoneauth.domain.circuit_breaker import CircuitBreakers, CircuitState
from phoneauth.domain.metrics import NoMetrics
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.sms_router import (
    NO_ROUTING,
    MessageFor,
    SmsRouter,
    StoredStandby,
    TenantRouting,
)
from phoneauth.domain.sms_routing import CircuitSettings, Route, RoutingRules

GERMAN = "+4915112345678"
HONG_KONG = "+85251234567"


@dataclass
class Scripted:
    """A connector answering from a script: an error to raise, "hang", or success."""

    name: str
    script: list[object] = field(default_factory=list)
    sent: list[SmsMessage] = field(default_factory=list)

    async def send(self, message: SmsMessage) -> SendResult:
        step = self.script.pop(0) if self.script else None
        if step == "hang":
            await asyncio.sleep(30)
        if isinstance(step, ConnectorError):
            raise step
        self.sent.append(message)
        return SendResult(provider_message_id=f"{self.name}-{len(self.sent)}")


@dataclass
class Setup:
    rules: RoutingRules | None
    connectors: dict[str, Scripted]

    async def routing(self, tenant_id: str) -> TenantRouting:
        if self.rules is None:
            return NO_ROUTING
        stamp = datetime.now(UTC)
        rows = tuple(
            StoredStandby(name, tenant_id, "fake", "sealed", stamp, stamp)
            for name in self.connectors
            if name != "main"
        )
        return TenantRouting(self.rules, rows)

    def build_standby(self, tenant_id: str, row: StoredStandby) -> Scripted:
        return self.connectors[row.id]


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


Row = tuple[str, int, str | None]


def make(
    rules: RoutingRules | None, *names: str, ticks: Ticks | None = None
) -> tuple[SmsRouter, dict[str, Scripted], ActiveConnector]:
    connectors = {name: Scripted(name) for name in ("main", *names)}
    setup = Setup(rules, connectors)
    router = SmsRouter(setup, setup, CircuitBreakers(ticks or Ticks()))
    active = ActiveConnector("main", "fake-active", connectors["main"])
    return router, connectors, active


async def send(
    router: SmsRouter,
    active: ActiveConnector,
    to: str = GERMAN,
    message_for: MessageFor | None = None,
) -> tuple[str, list[Row]]:
    rows: list[Row] = []

    async def record(
        connector: ActiveConnector,
        attempt: int,
        error: ConnectorError | None,
        result: SendResult | None,
        started: float,
    ) -> None:
        rows.append((connector.row_id, attempt, None if error is None else error.code))

    plan = await router.plan("t1", active, to)
    message = SmsMessage(to=to, usage_type=UsageType.GENERIC, payload={"code": "123456"})
    delivered = await router.deliver(plan, message, record, message_for)
    return delivered.connector.row_id, rows


RULES = RoutingRules(
    routes=(Route(("HK", "CN"), ("asia", "active")),),
    fallback=("backup",),
    circuit=CircuitSettings(failure_threshold=2, cooldown_seconds=30),
)


async def test_without_rules_one_attempt_through_the_active_connector() -> None:
    router, connectors, active = make(None)
    connectors["main"].script = [RateLimitExceededError()]
    with pytest.raises(RateLimitExceededError) as info:
        await send(router, active)
    assert "attempts" not in info.value.details  # the answer as it always was


async def test_a_transient_failure_moves_on_and_every_attempt_is_recorded() -> None:
    router, connectors, active = make(RULES, "asia", "backup")
    connectors["main"].script = [ConnectorError("down", http_status=503)]
    sent_by, rows = await send(router, active)
    assert sent_by == "backup"
    assert rows == [("main", 1, "connector.general"), ("backup", 2, None)]
    assert len(connectors["backup"].sent) == 1


async def test_a_route_sends_its_countries_through_its_own_connectors() -> None:
    router, connectors, active = make(RULES, "asia", "backup")
    sent_by, rows = await send(router, active, HONG_KONG)
    assert (sent_by, rows) == ("asia", [("asia", 1, None)])
    assert connectors["main"].sent == []


@pytest.mark.parametrize(
    "permanent",
    [InvalidRequestParametersError(http_status=400), InvalidResponseError(http_status=200)],
    ids=lambda error: error.code,
)
async def test_a_permanent_or_ambiguous_failure_stops_no_second_provider_sends(
    permanent: ConnectorError,
) -> None:
    router, connectors, active = make(RULES, "asia", "backup")
    connectors["main"].script = [permanent]
    with pytest.raises(ConnectorError) as info:
        await send(router, active)
    assert info.value is permanent
    assert connectors["backup"].sent == []
    assert info.value.details["attempts"] == [
        {"connectorId": "main", "factoryId": "fake-active", "errorCode": permanent.code}
    ]


async def test_when_all_fail_the_error_lists_every_attempt() -> None:
    router, connectors, active = make(RULES, "asia", "backup")
    connectors["main"].script = [RateLimitExceededError()]
    connectors["backup"].script = [ConnectorTimeoutError()]
    with pytest.raises(ConnectorTimeoutError) as info:
        await send(router, active)
    assert [a["connectorId"] for a in info.value.details["attempts"]] == ["main", "backup"]


async def test_open_circuits_are_skipped_and_all_open_still_tries_the_soonest() -> None:
    ticks = Ticks()
    router, connectors, active = make(RULES, "asia", "backup", ticks=ticks)
    connectors["main"].script = [RateLimitExceededError()] * 2
    for _ in range(2):
        assert (await send(router, active))[0] == "backup"
    views = {view.connector_id: view.state for view in router.circuits("t1")}
    assert views == {"main": CircuitState.OPEN, "backup": CircuitState.CLOSED}
    # Open: skipped without an attempt.
    assert (await send(router, active))[1] == [("backup", 1, None)]
    # Both open: the one whose cool-down ends first (main, opened earlier) is still tried.
    ticks.now += 5
    connectors["backup"].script = [RateLimitExceededError()] * 2
    for _ in range(2):
        with pytest.raises(RateLimitExceededError):
            await send(router, active)
    sent_by, rows = await send(router, active)
    assert (sent_by, rows) == ("main", [("main", 1, None)])
    assert router.breakers.get("t1", "main", RULES.circuit).state() is CircuitState.CLOSED


async def test_a_hanging_provider_is_cut_and_the_deadline_holds() -> None:
    rules = RoutingRules(fallback=("backup",), deadline_seconds=0.4)
    router, connectors, active = make(rules, "backup")
    connectors["main"].script = ["hang"]
    started = time.perf_counter()
    sent_by, rows = await send(router, active)
    assert sent_by == "backup"
    assert rows == [("main", 1, "connector.timeout"), ("backup", 2, None)]
    # The hanging one had half of the deadline; the whole send stayed within it.
    assert time.perf_counter() - started < 0.4

    connectors["main"].script = ["hang"]
    connectors["backup"].script = ["hang"]
    started = time.perf_counter()
    with pytest.raises(ConnectorTimeoutError):
        await send(router, active)
    assert 0.35 < time.perf_counter() - started < 0.6


async def test_each_attempt_may_adapt_the_message_and_its_fields_survive() -> None:
    """A per-connector `status_callback`: each attempt names its own connector."""
    router, connectors, active = make(RULES, "asia", "backup")
    connectors["main"].script = [RateLimitExceededError()]
    await send(
        router,
        active,
        message_for=lambda message, connector: dataclasses.replace(
            message, status_callback=f"https://auth.example.com/api/connectors/{connector.row_id}/r"
        ),
    )
    [sent] = connectors["backup"].sent
    assert sent.status_callback == "https://auth.example.com/api/connectors/backup/r"
    assert (sent.to, sent.payload["code"]) == (GERMAN, "123456")


async def test_the_metrics_hear_of_each_circuit_change_once() -> None:
    ticks = Ticks()
    router, connectors, active = make(RULES, "asia", "backup", ticks=ticks)
    heard: list[tuple[str, str, str]] = []

    class Heard(NoMetrics):
        def circuit_changed(self, connector_id: str, factory_id: str, state: str) -> None:
            heard.append((connector_id, factory_id, state))

    router.metrics = Heard()
    connectors["main"].script = [RateLimitExceededError()] * 3
    for _ in range(3):
        await send(router, active)
    assert heard == [("main", "fake-active", "open")]
    ticks.now += 30
    await send(router, active)  # the probe fails: open again
    connectors["main"].script = []
    ticks.now += 30
    await send(router, active)  # the probe succeeds
    assert heard == [
        ("main", "fake-active", "open"),
        ("main", "fake-active", "half_open"),
        ("main", "fake-active", "open"),
        ("main", "fake-active", "half_open"),
        ("main", "fake-active", "closed"),
    ]
