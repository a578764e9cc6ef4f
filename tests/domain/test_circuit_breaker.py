"""The circuit breaker's timing, driven by an injected clock: no sleeps."""

from __future__ import annotations

from phoneauth.domain.circuit_breaker import CircuitBreaker, CircuitBreakers, CircuitState
from phoneauth.domain.sms_routing import CircuitSettings


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(ticks: Ticks, threshold: int = 3, cooldown: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(CircuitSettings(threshold, cooldown), ticks)


def test_it_opens_after_n_consecutive_transient_failures_only() -> None:
    ticks = Ticks()
    circuit = breaker(ticks)
    circuit.failed()
    circuit.failed()
    circuit.succeeded()  # not consecutive any more
    circuit.failed()
    circuit.failed()
    assert circuit.state() is CircuitState.CLOSED
    assert circuit.allow()
    circuit.failed()
    assert circuit.state() is CircuitState.OPEN
    assert not circuit.allow()
    assert circuit.view("c").retry_in_seconds == 30.0


def test_after_the_cooldown_one_probe_goes_through_and_its_success_closes() -> None:
    ticks = Ticks()
    circuit = breaker(ticks, threshold=1)
    circuit.failed()
    ticks.now += 29.9
    assert not circuit.allow()
    ticks.now += 0.1
    assert circuit.state() is CircuitState.HALF_OPEN
    assert circuit.allow()  # the probe
    assert not circuit.allow()  # a concurrent send does not probe too
    circuit.succeeded()
    assert circuit.state() is CircuitState.CLOSED
    assert circuit.allow()
    assert circuit.failures == 0


def test_a_failed_probe_reopens_for_a_whole_cooldown() -> None:
    ticks = Ticks()
    circuit = breaker(ticks, threshold=5, cooldown=10)
    for _ in range(5):
        circuit.failed()
    ticks.now += 10
    assert circuit.allow()
    circuit.failed()  # one failure is enough while probing
    assert circuit.state() is CircuitState.OPEN
    ticks.now += 9.99
    assert not circuit.allow()
    ticks.now += 0.01
    assert circuit.allow()


def test_an_abandoned_probe_lets_the_next_send_probe() -> None:
    ticks = Ticks()
    circuit = breaker(ticks, threshold=1, cooldown=1)
    circuit.failed()
    ticks.now += 1
    assert circuit.allow()
    circuit.abandoned()
    assert circuit.allow()


def test_the_registry_keeps_one_per_tenant_and_connector_and_counts_states() -> None:
    ticks = Ticks()
    breakers = CircuitBreakers(ticks)
    settings = CircuitSettings(1, 5)
    breakers.get("t1", "a", settings).failed()
    assert breakers.get("t1", "a", settings).state() is CircuitState.OPEN
    assert breakers.get("t2", "a", settings).state() is CircuitState.CLOSED
    assert breakers.counts() == {"closed": 1, "open": 1, "halfOpen": 0}
    assert [view.connector_id for view in breakers.views("t1")] == ["a"]
    # New limits apply to the existing circuit.
    breakers.get("t1", "a", CircuitSettings(1, 60))
    ticks.now += 10
    assert breakers.get("t1", "a", CircuitSettings(1, 60)).state() is CircuitState.OPEN
