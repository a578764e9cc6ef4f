"""What the domain tells an operator's metrics, said by what happened (the port `metrics/`
implements with Prometheus; the default counts nothing).

Every value handed over is already safe to become a label: tenant and connector ids, ISO
regions, usage types, statuses and error codes. Never a phone number, an address or a code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from phoneauth.domain.message_log import Channel, DeliveryStatus, MessageLogEntry

VERIFIED = "verified"
"""`code_checked`'s outcome for a code accepted; any other outcome is the refusal's error code."""


class Metrics(Protocol):
    """Called on the path of a request: implementations must be fast and must not raise."""

    def message_attempted(self, entry: MessageLogEntry) -> None:
        """One send attempt, as the message log keeps it (`MessageLog.record`); `attempt > 1`
        is a failover to a further connector."""
        ...

    def delivery_reported(
        self,
        tenant_id: str,
        factory_id: str | None,
        country: str | None,
        status: DeliveryStatus,
        latency_ms: int | None,
    ) -> None:
        """A provider's report moved a message's delivery status forward; `latency_ms` from
        the send to a final report (None before it)."""
        ...

    def code_checked(
        self,
        tenant_id: str,
        channel: Channel,
        country: str | None,
        usage_type: str,
        outcome: str,
    ) -> None:
        """A submitted code was accepted (`VERIFIED`) or refused (the error code: wrong,
        expired, not found, too many tries, locked...)."""
        ...

    def rate_limited(self, tenant_id: str, budget: str) -> None:
        """A request was refused by one budget (`rate_limits.Budget`)."""
        ...

    def sms_refused(self, tenant_id: str, country: str, reason: str) -> None:
        """The pumping defence refused an SMS to `country` (ISO region, `001` for none) for
        `reason` (the refusal's error code, `sms_protection.SmsRefusal`)."""
        ...

    def country_suspended(self, tenant_id: str, country: str, reason: str) -> None:
        """SMS to `country` were suspended, `reason` saying why (`low_conversion`, `admin`)."""
        ...

    def circuit_changed(self, connector_id: str, factory_id: str, state: str) -> None:
        """A connector's circuit breaker moved to `state`: `closed`, `half_open` or `open`."""
        ...


class NoMetrics:
    """Counts nothing: library use, the CLI, and a server without `PHONEAUTH_METRICS_TOKEN`."""

    def message_attempted(self, entry: MessageLogEntry) -> None:
        pass

    def delivery_reported(
        self,
        tenant_id: str,
        factory_id: str | None,
        country: str | None,
        status: DeliveryStatus,
        latency_ms: int | None,
    ) -> None:
        pass

    def code_checked(
        self,
        tenant_id: str,
        channel: Channel,
        country: str | None,
        usage_type: str,
        outcome: str,
    ) -> None:
        pass

    def rate_limited(self, tenant_id: str, budget: str) -> None:
        pass

    def sms_refused(self, tenant_id: str, country: str, reason: str) -> None:
        pass

    def country_suspended(self, tenant_id: str, country: str, reason: str) -> None:
        pass

    def circuit_changed(self, connector_id: str, factory_id: str, state: str) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()
