"""A circuit breaker per SMS connector: a provider that keeps failing is skipped for a while.

Closed → open after `failure_threshold` consecutive transient failures; open → half-open once
`cooldown_seconds` have passed, where exactly one send probes it: success closes the circuit,
a transient failure opens it for another cool-down. Kept in process memory (each worker judges
the providers it talks to), timed by an injected monotonic clock so tests need no sleeps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from phoneauth.domain.sms_routing import CircuitSettings

Monotonic = Callable[[], float]


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "halfOpen"


@dataclass(frozen=True, slots=True)
class CircuitView:
    """What the API, the console and `/health` show of one circuit."""

    connector_id: str
    state: CircuitState
    consecutive_failures: int
    retry_in_seconds: float | None
    """Open: seconds until it may be probed again; otherwise None."""


class CircuitBreaker:
    def __init__(self, settings: CircuitSettings, clock: Monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.reported = CircuitState.CLOSED
        """The state last told to the metrics (`SmsRouter` reports each change once)."""

    @property
    def reopens_at(self) -> float:
        """When an open circuit may be probed (now for a closed one)."""
        if self._opened_at is None:
            return self._clock()
        return self._opened_at + self.settings.cooldown_seconds

    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._probing or self._clock() >= self.reopens_at:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    def allow(self) -> bool:
        """Whether a send may use this connector now; a half-open circuit lets one probe."""
        state = self.state()
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def force(self) -> None:
        """Use it although it is open (every candidate is): this send is its probe."""
        self._probing = True

    def succeeded(self) -> None:
        """The provider answered (taken, or refused for the message's own fault): closed."""
        self.failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        """A transient failure: counted; the threshold, or a failed probe, opens it."""
        self.failures += 1
        if self._probing or self.failures >= self.settings.failure_threshold:
            self._opened_at = self._clock()
        self._probing = False

    def abandoned(self) -> None:
        """The attempt ended without an answer about the provider (deadline, shutdown)."""
        self._probing = False

    def view(self, connector_id: str) -> CircuitView:
        state = self.state()
        retry = None
        if state is CircuitState.OPEN:
            retry = max(0.0, round(self.reopens_at - self._clock(), 3))
        return CircuitView(connector_id, state, self.failures, retry)


class CircuitBreakers:
    """The breakers of this process, by (tenant, connector row id), created on first use."""

    def __init__(self, clock: Monotonic = time.monotonic, max_size: int = 10_000) -> None:
        self.clock = clock
        self._max_size = max_size
        self._breakers: dict[tuple[str, str], CircuitBreaker] = {}

    def get(self, tenant_id: str, connector_id: str, settings: CircuitSettings) -> CircuitBreaker:
        key = (tenant_id, connector_id)
        found = self._breakers.get(key)
        if found is None:
            if len(self._breakers) >= self._max_size:  # bounded: forget the oldest
                del self._breakers[next(iter(self._breakers))]
            found = self._breakers[key] = CircuitBreaker(settings, self.clock)
        elif found.settings != settings:
            found.settings = settings  # the rules changed: keep the count, apply the new limits
        return found

    def views(self, tenant_id: str) -> list[CircuitView]:
        return [
            breaker.view(connector)
            for (tenant, connector), breaker in self._breakers.items()
            if tenant == tenant_id
        ]

    def counts(self) -> dict[str, int]:
        """Circuits by state across tenants (for `/health`: no tenant or connector named)."""
        counts = dict.fromkeys(CircuitState, 0)
        for breaker in self._breakers.values():
            counts[breaker.state()] += 1
        return {state.value: count for state, count in counts.items()}
