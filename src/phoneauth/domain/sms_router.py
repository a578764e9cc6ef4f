"""Failover for one SMS send: which connectors it tries, in which order, within one deadline.

A tenant without rules sends as it always has: one attempt through the active connector, its
error answered as is, and no other cost than one cached lookup. With rules, the candidates are
the route of the recipient's region (else the active connector, then `fallback`), open circuits
skipped (all open: the one whose cool-down ends first is still tried, rather than nothing). A
transient failure moves on to the next candidate; a permanent one stops, so the same code never
goes out through a second provider unless the first answer said it did not go out. Every
attempt is recorded (one message-log row each, sharing a `send_id`); a hanging provider is cut
at the overall deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from phoneauth.connectors import Connector, ConnectorError, SendResult, SmsMessage, mask_phone
from phoneauth.connectors.errors import ConnectorTimeoutError, is_transient
from phoneauth.domain.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakers,
    CircuitState,
    CircuitView,
)
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.phone_numbers import region_of
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.sms_routing import ACTIVE, RoutingRules

log = logging.getLogger("phoneauth.codes")


class RoutingDeadlineError(ConnectorTimeoutError):
    """The connector did not answer within its share of the routing deadline
    (`deadlineSeconds`); like any timeout, the next connector may be tried."""


@dataclass(frozen=True, slots=True)
class StoredStandby:
    """A standby connector's row: the config stays encrypted until a send builds it."""

    id: str
    tenant_id: str
    factory_id: str
    config_encrypted: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TenantRouting:
    """What one send needs to know of a tenant's routing, read through one cached lookup."""

    rules: RoutingRules | None
    standby: tuple[StoredStandby, ...] = ()

    def standby_by_id(self, connector_id: str) -> StoredStandby | None:
        return next((row for row in self.standby if row.id == connector_id), None)


NO_ROUTING = TenantRouting(None)


class RoutingSource(Protocol):
    async def routing(self, tenant_id: str) -> TenantRouting:
        """The tenant's rules and standby connectors (`NO_ROUTING` without rules); cached."""
        ...


class StandbyBuilder(Protocol):
    def build_standby(self, tenant_id: str, row: StoredStandby) -> Connector | None:
        """The connector a standby row configures (None if its factory is not installed)."""
        ...


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt as the caller is told of it when every attempt failed."""

    connector_id: str
    factory_id: str
    error_code: str

    def to_dict(self) -> dict[str, str]:
        return {
            "connectorId": self.connector_id,
            "factoryId": self.factory_id,
            "errorCode": self.error_code,
        }


Recorder = Callable[
    [ActiveConnector, int, ConnectorError | None, SendResult | None, float], Awaitable[None]
]
"""Writes one attempt's row: (connector, attempt number, error or result, `perf_counter` start)."""


MessageFor = Callable[[SmsMessage, ActiveConnector], SmsMessage]


@dataclass(frozen=True, slots=True)
class Plan:
    """The candidates of one send, in order; `rules` None: the plain single attempt."""

    tenant_id: str
    candidates: tuple[ActiveConnector, ...]
    rules: RoutingRules | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    result: SendResult
    connector: ActiveConnector


class SmsRouter:
    def __init__(
        self,
        source: RoutingSource,
        builder: StandbyBuilder,
        breakers: CircuitBreakers | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.source = source
        self.builder = builder
        self.breakers = breakers or CircuitBreakers()
        self.metrics = metrics

    async def plan(self, tenant_id: str, active: ActiveConnector, e164: str) -> Plan:
        """The candidates for a number, active connector first unless a route says else."""
        routing = await self.source.routing(tenant_id)
        if routing.rules is None:
            return Plan(tenant_id, (active,))
        candidates: dict[str, ActiveConnector] = {}
        for name in routing.rules.connectors_for(region_of(e164)):
            found = active if name == ACTIVE else self._standby(tenant_id, routing, name)
            if found is not None:
                candidates.setdefault(found.row_id, found)
        if not candidates:  # a route whose connectors' factories are all uninstalled
            return Plan(tenant_id, (active,))
        return Plan(tenant_id, tuple(candidates.values()), routing.rules)

    def _standby(self, tenant_id: str, routing: TenantRouting, name: str) -> ActiveConnector | None:
        row = routing.standby_by_id(name)
        connector = None if row is None else self.builder.build_standby(tenant_id, row)
        if row is None or connector is None:
            return None
        return ActiveConnector(row_id=row.id, factory_id=row.factory_id, connector=connector)

    def circuits(self, tenant_id: str) -> list[CircuitView]:
        return self.breakers.views(tenant_id)

    async def deliver(
        self,
        plan: Plan,
        message: SmsMessage,
        record: Recorder,
        message_for: MessageFor | None = None,
    ) -> Delivered:
        """Send through the plan's candidates until one takes the message. `message_for`
        adapts the message to each attempt's connector (its `status_callback` URL names that
        connector; made with `dataclasses.replace`, so other fields survive).

        Raises:
            ConnectorError: the last attempt's error (a permanent one stops at once; an
                attempt cut by the deadline is `connector.timeout`); with rules,
                `details.attempts` lists every attempt as `{connectorId, factoryId, errorCode}`.
        """
        rules = plan.rules
        first = plan.candidates[0]
        if rules is None:
            return Delivered(await self._attempt(first, 1, message, record, message_for), first)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + rules.deadline_seconds
        attempts: list[Attempt] = []
        error: ConnectorError | None = None
        for candidate, breaker, later in self._admitted(plan, rules):
            remaining = deadline - loop.time()
            if remaining <= 0:
                breaker.abandoned()
                break
            # A connector with others after it gets half of what is left, so a hanging
            # provider leaves time for the next one; the last one gets all of it.
            share = loop.time() + (remaining / 2 if later else remaining)
            try:
                result = await self._attempt(
                    candidate, len(attempts) + 1, message, record, message_for, share
                )
            except ConnectorError as failed:
                error = failed
                attempts.append(Attempt(candidate.row_id, candidate.factory_id, failed.code))
                if not is_transient(failed):
                    breaker.succeeded()  # it answered: the message, or its config, was at fault
                    self._report(candidate, breaker)
                    break
                breaker.failed()
                self._report(candidate, breaker)
                log.info(
                    "SMS to %s: %s failed (%s), trying the next connector if any",
                    mask_phone(message.to),
                    candidate.factory_id,
                    failed.code,
                )
                continue
            except BaseException:
                breaker.abandoned()
                raise
            breaker.succeeded()
            self._report(candidate, breaker)
            return Delivered(result, candidate)
        if error is None:  # only if the deadline passed before any attempt began
            raise RoutingDeadlineError()
        error.details["attempts"] = [attempt.to_dict() for attempt in attempts]
        raise error

    def _report(self, candidate: ActiveConnector, breaker: CircuitBreaker) -> None:
        """Tell the metrics of a circuit that changed state since they last heard of it."""
        state = breaker.state()
        if state is not breaker.reported:
            breaker.reported = state
            name = "half_open" if state is CircuitState.HALF_OPEN else state.value
            self.metrics.circuit_changed(candidate.row_id, candidate.factory_id, name)

    def _admitted(
        self, plan: Plan, rules: RoutingRules
    ) -> Iterator[tuple[ActiveConnector, CircuitBreaker, bool]]:
        """The candidates whose circuit lets a send through, in order, asked one at a time (a
        half-open circuit's probe is claimed only when it is used), each with whether more
        candidates follow; when none did, the one whose cool-down ends first (a send with
        nowhere to go would fail for sure)."""
        pairs = [
            (candidate, self.breakers.get(plan.tenant_id, candidate.row_id, rules.circuit))
            for candidate in plan.candidates
        ]
        tried = False
        for index, (candidate, breaker) in enumerate(pairs):
            if breaker.allow():
                tried = True
                self._report(candidate, breaker)  # a probe: half-open
                yield candidate, breaker, index < len(pairs) - 1
        if not tried and pairs:
            candidate, breaker = min(pairs, key=lambda pair: pair[1].reopens_at)
            breaker.force()
            self._report(candidate, breaker)
            yield candidate, breaker, False

    async def _attempt(
        self,
        candidate: ActiveConnector,
        number: int,
        message: SmsMessage,
        record: Recorder,
        message_for: MessageFor | None,
        deadline: float | None = None,
    ) -> SendResult:
        """One send through one connector, recorded; every failure a `ConnectorError`."""
        started = time.perf_counter()
        scope = asyncio.timeout_at(deadline)
        try:
            async with scope:
                sent = message if message_for is None else message_for(message, candidate)
                result = await candidate.connector.send(sent)
        except ConnectorError as error:
            await record(candidate, number, error, None, started)
            raise
        except asyncio.CancelledError:
            stopped = ConnectorError(
                "The server stopped before the provider answered; the SMS may not have been sent."
            )
            await record(candidate, number, stopped, None, started)
            raise
        except Exception as error:
            failure: ConnectorError
            if isinstance(error, TimeoutError) and scope.expired():
                failure = RoutingDeadlineError()
            else:
                # A third-party connector broke the contract; its text may quote the payload.
                log.error("connector %s raised %s", candidate.factory_id, type(error).__name__)
                failure = ConnectorError(
                    "The SMS connector failed unexpectedly.", factory_id=candidate.factory_id
                )
            await record(candidate, number, failure, None, started)
            raise failure from None
        await record(candidate, number, None, result, started)
        return result


class NoRouting:
    """The source of a codes engine built without routing (library use, tests): no rules."""

    async def routing(self, tenant_id: str) -> TenantRouting:
        return NO_ROUTING

    def build_standby(self, tenant_id: str, row: StoredStandby) -> Connector | None:
        return None
