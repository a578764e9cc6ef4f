"""The domain's `Metrics` port in Prometheus's terms, plus the HTTP requests, and the scrape.

Names follow Prometheus's conventions (`phoneauth_` prefix, `_total` counters, seconds). Every
label value comes from a bounded set the domain hands over (tenant and connector ids, ISO
regions, usage types, statuses, error codes, route templates), never a phone number or a code.
An unknown value (no connector, an email's country) is the empty string, which Prometheus
treats as the label being absent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from phoneauth.domain.message_log import Channel, DeliveryStatus, MessageLogEntry
from phoneauth.metrics import multiprocess

log = logging.getLogger("phoneauth.metrics")

SEND_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""A provider's answer: tens of milliseconds to the 10 s `PHONEAUTH_HTTP_TIMEOUT`."""
DELIVERY_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
"""From the send to the handset's final report: seconds, or an hour for a phone that was off."""
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
CIRCUIT_STATES = {"closed": 0, "half_open": 1, "open": 2}
"""The gauge's value per circuit state: higher is worse, so a sum's max is the worst worker."""

Observe = Callable[[float], None]


class PrometheusMetrics:
    """One per app. Its own registry, so that tests and library users may build many apps in
    one process; with several workers the values live in the shared folder instead
    (`multiprocess`), and a scrape sums them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.folder = multiprocess.shared_directory()
        into = self.registry
        self.messages = Counter(
            "phoneauth_messages",
            "Send attempts of verification messages (SMS and email), by outcome: sent, failed "
            "(error_code names why) or test (a test phone number's code, never sent).",
            ["tenant", "connector", "channel", "country", "usage_type", "outcome", "error_code"],
            registry=into,
        )
        self.send_seconds = Histogram(
            "phoneauth_message_send_duration_seconds",
            "How long the provider took to take (or refuse) one send attempt.",
            ["connector", "channel", "outcome"],
            buckets=SEND_BUCKETS,
            registry=into,
        )
        self.failovers = Counter(
            "phoneauth_message_failovers",
            "Send attempts made on a further connector after an earlier one failed.",
            ["tenant", "connector", "channel", "country"],
            registry=into,
        )
        self.deliveries = Counter(
            "phoneauth_delivery_reports",
            "Delivery statuses reported by providers (accepted, sent, delivered, undelivered, "
            "failed), each counted when it moves a message's status forward.",
            ["tenant", "connector", "country", "status"],
            registry=into,
        )
        self.delivery_seconds = Histogram(
            "phoneauth_delivery_duration_seconds",
            "From the send to the provider's final delivery report.",
            ["connector", "status"],
            buckets=DELIVERY_BUCKETS,
            registry=into,
        )
        self.verifications = Counter(
            "phoneauth_code_verifications",
            "Submitted codes, by outcome: verified, or the error code of the refusal.",
            ["tenant", "channel", "country", "usage_type", "outcome"],
            registry=into,
        )
        self.refusals = Counter(
            "phoneauth_rate_limit_refusals",
            "Requests refused by a rate limit, by the budget that refused them.",
            ["tenant", "budget"],
            registry=into,
        )
        self.sms_refusals = Counter(
            "phoneauth_sms_protection_refusals",
            "SMS refused by the pumping defence, by country and reason (the error code).",
            ["tenant", "country", "reason"],
            registry=into,
        )
        self.suspensions = Counter(
            "phoneauth_sms_country_suspensions",
            "Countries whose SMS were suspended, by why: low_conversion (the conversion watch) "
            "or admin.",
            ["tenant", "country", "reason"],
            registry=into,
        )
        self.circuits = Gauge(
            "phoneauth_connector_circuit_state",
            "Each connector's circuit breaker: 0 closed, 1 half-open (probing), 2 open "
            "(skipped); with several workers, the worst state among the live ones.",
            ["connector_id", "connector"],
            multiprocess_mode="livemax",
            registry=into,
        )
        self.requests = Counter(
            "phoneauth_http_requests",
            "HTTP requests answered, by route template (never the raw path) and status.",
            ["method", "route", "status"],
            registry=into,
        )
        self.request_seconds = Histogram(
            "phoneauth_http_request_duration_seconds",
            "How long an HTTP request took, from its arrival to the end of the answer.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=into,
        )
        # The labelled children of the per-request metrics, looked up once per label set:
        # prometheus_client's `labels()` takes a lock and validates on every call.
        self._http: dict[tuple[str, str, int], tuple[Callable[[], None], Observe]] = {}

    # --- the domain's port ----------------------------------------------------------------

    def message_attempted(self, entry: MessageLogEntry) -> None:
        if entry.test_send:
            return  # a connector test from the console or the API: not a user's message
        connector, channel, country = entry.factory_id or "", entry.channel, entry.country or ""
        outcome = entry.status.value
        self.messages.labels(
            entry.tenant_id,
            connector,
            channel,
            country,
            entry.usage_type,
            outcome,
            entry.error_code or "",
        ).inc()
        if entry.latency_ms is not None:
            self.send_seconds.labels(connector, channel, outcome).observe(entry.latency_ms / 1000)
        if entry.attempt is not None and entry.attempt > 1:
            self.failovers.labels(entry.tenant_id, connector, channel, country).inc()

    def delivery_reported(
        self,
        tenant_id: str,
        factory_id: str | None,
        country: str | None,
        status: DeliveryStatus,
        latency_ms: int | None,
    ) -> None:
        connector = factory_id or ""
        self.deliveries.labels(tenant_id, connector, country or "", status.value).inc()
        if latency_ms is not None:
            self.delivery_seconds.labels(connector, status.value).observe(latency_ms / 1000)

    def code_checked(
        self,
        tenant_id: str,
        channel: Channel,
        country: str | None,
        usage_type: str,
        outcome: str,
    ) -> None:
        self.verifications.labels(tenant_id, channel, country or "", usage_type, outcome).inc()

    def rate_limited(self, tenant_id: str, budget: str) -> None:
        self.refusals.labels(tenant_id, budget).inc()

    def sms_refused(self, tenant_id: str, country: str, reason: str) -> None:
        self.sms_refusals.labels(tenant_id, country, reason).inc()

    def country_suspended(self, tenant_id: str, country: str, reason: str) -> None:
        self.suspensions.labels(tenant_id, country, reason).inc()

    def circuit_changed(self, connector_id: str, factory_id: str, state: str) -> None:
        value = CIRCUIT_STATES.get(str(state).lower().replace("-", "_"))
        if value is None:
            log.warning("unknown circuit state %r of connector %s: not shown", state, connector_id)
            return
        self.circuits.labels(connector_id, factory_id).set(value)

    # --- the web layer --------------------------------------------------------------------

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """One answered request; `route` a template (`/api/connectors/{connector_id}`)."""
        key = (method, route, status)
        children = self._http.get(key)
        if children is None:
            count = self.requests.labels(method, route, str(status))
            timing = self.request_seconds.labels(method, route)
            children = self._http[key] = (count.inc, timing.observe)
        children[0]()
        children[1](seconds)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The scrape's body and content type: Prometheus's text format, or OpenMetrics when
        the `Accept` header asks for it. Every worker's values when there are several."""
        encoder, content_type = choose_encoder(accept or "")
        registry = self.registry if self.folder is None else multiprocess.collected(self.folder)
        return encoder(registry), content_type

    def close(self) -> None:
        """The app stops: a worker's live gauges leave the sums (its counters stay)."""
        if self.folder is not None:
            multiprocess.worker_stopped(self.folder)
