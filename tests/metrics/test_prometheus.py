"""The Prometheus adapter counts what the domain says happened, including what only the
integrator's code will say (delivery reports, circuit breakers)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families

from phoneauth.domain.message_log import Channel, DeliveryStatus, MessageLogEntry, MessageStatus
from phoneauth.metrics import PrometheusMetrics

ENTRY = MessageLogEntry(
    id="m1",
    tenant_id="acme",
    created_at=datetime(2026, 12, 6, tzinfo=UTC),
    connector_id="row-1",
    factory_id="twilio-short-message-service",
    usage_type="SignIn",
    phone_masked="+49 *** 5678",
    status=MessageStatus.SENT,
    latency_ms=120,
    send_id="s1",
    attempt=1,
    country="DE",
)


def samples(metrics: PrometheusMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    body, content_type = metrics.exposition(None)
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    return sum(
        found
        for (sample, sample_labels), found in samples(metrics).items()
        if sample == name and labels.items() <= dict(sample_labels).items()
    )


def test_an_attempt_is_counted_timed_and_a_later_attempt_is_a_failover() -> None:
    metrics = PrometheusMetrics()
    failed = replace(ENTRY, status=MessageStatus.FAILED, error_code="connector.timeout")
    metrics.message_attempted(failed)
    metrics.message_attempted(replace(ENTRY, factory_id="vonage-sms", attempt=2))
    sends = "phoneauth_messages_total"
    assert value(metrics, sends, outcome="failed", error_code="connector.timeout") == 1
    assert value(metrics, sends, connector="vonage-sms", outcome="sent", country="DE") == 1
    failovers = "phoneauth_message_failovers_total"
    assert value(metrics, failovers, connector="vonage-sms", tenant="acme", country="DE") == 1
    assert value(metrics, failovers) == 1
    timed = "phoneauth_message_send_duration_seconds"
    assert value(metrics, timed + "_count") == 2
    assert value(metrics, timed + "_bucket", le="0.1", outcome="sent") == 0
    assert value(metrics, timed + "_bucket", le="0.25", outcome="sent") == 1
    assert value(metrics, timed + "_sum") == pytest.approx(0.24)


def test_test_numbers_count_as_test_emails_have_no_country_connector_tests_are_left_out() -> None:
    metrics = PrometheusMetrics()
    metrics.message_attempted(replace(ENTRY, status=MessageStatus.TEST, latency_ms=None))
    email = replace(ENTRY, phone_masked="j***@example.com", country=None, factory_id="smtp")
    metrics.message_attempted(email)
    metrics.message_attempted(replace(ENTRY, test_send=True))
    sends = "phoneauth_messages_total"
    assert value(metrics, sends, outcome="test", channel="sms") == 1
    assert value(metrics, sends, channel="email", country="", connector="smtp") == 1
    assert value(metrics, sends) == 2
    assert value(metrics, "phoneauth_message_send_duration_seconds_count") == 1


def test_delivery_reports_by_status_and_the_latency_of_final_ones() -> None:
    metrics = PrometheusMetrics()
    factory = "twilio-short-message-service"
    metrics.delivery_reported("acme", factory, "DE", DeliveryStatus.SENT, None)
    metrics.delivery_reported("acme", factory, "DE", DeliveryStatus.DELIVERED, 4_000)
    metrics.delivery_reported("acme", factory, None, DeliveryStatus.UNDELIVERED, 90_000)
    reports = "phoneauth_delivery_reports_total"
    assert value(metrics, reports, status="delivered", country="DE", connector=factory) == 1
    assert value(metrics, reports, status="undelivered", country="") == 1
    assert value(metrics, reports) == 3
    latency = "phoneauth_delivery_duration_seconds"
    assert value(metrics, latency + "_count") == 2
    assert value(metrics, latency + "_bucket", status="delivered", le="5.0") == 1
    assert value(metrics, latency + "_bucket", status="undelivered", le="60.0") == 0
    assert value(metrics, latency + "_sum") == pytest.approx(94.0)


def test_circuit_state_is_a_gauge_higher_when_worse(caplog: pytest.LogCaptureFixture) -> None:
    metrics = PrometheusMetrics()
    state = "phoneauth_connector_circuit_state"
    metrics.circuit_changed("row-1", "twilio-short-message-service", "open")
    metrics.circuit_changed("row-2", "vonage-sms", "closed")
    assert value(metrics, state, connector_id="row-1") == 2
    assert value(metrics, state, connector_id="row-2", connector="vonage-sms") == 0
    metrics.circuit_changed("row-1", "twilio-short-message-service", "half-open")
    assert value(metrics, state, connector_id="row-1") == 1
    with caplog.at_level(logging.WARNING, "phoneauth.metrics"):
        metrics.circuit_changed("row-1", "twilio-short-message-service", "melted")
    assert value(metrics, state, connector_id="row-1") == 1
    assert "unknown circuit state" in caplog.text


def test_code_checks_and_refusals() -> None:
    metrics = PrometheusMetrics()
    metrics.code_checked("acme", Channel.SMS, "FR", "SignIn", "verified")
    metrics.code_checked("acme", Channel.SMS, "FR", "SignIn", "verification_code.expired")
    metrics.code_checked("acme", Channel.EMAIL, None, "Register", "verified")
    metrics.rate_limited("acme", "ip")
    checks = "phoneauth_code_verifications_total"
    assert value(metrics, checks, country="FR", outcome="verified") == 1
    assert value(metrics, checks, country="FR", outcome="verification_code.expired") == 1
    assert value(metrics, checks, channel="email", country="") == 1
    assert value(metrics, "phoneauth_rate_limit_refusals_total", budget="ip") == 1


def test_pumping_defence_refusals_by_country_and_reason() -> None:
    metrics = PrometheusMetrics()
    metrics.sms_refused("acme", "GB", "phone_number.type_not_allowed")
    metrics.sms_refused("acme", "GB", "phone_number.type_not_allowed")
    metrics.sms_refused("acme", "LV", "sms.country_suspended")
    name = "phoneauth_sms_protection_refusals_total"
    assert value(metrics, name, country="GB", reason="phone_number.type_not_allowed") == 2
    assert value(metrics, name, country="LV", reason="sms.country_suspended") == 1
    metrics.country_suspended("acme", "LV", "low_conversion")
    suspensions = "phoneauth_sms_country_suspensions_total"
    assert value(metrics, suspensions, country="LV", reason="low_conversion") == 1


def test_each_app_has_registry_of_its_own() -> None:
    """Tests and library users build many apps in one process: no name is registered twice,
    and no app sees another's counts."""
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.rate_limited("acme", "ip")
    assert value(first, "phoneauth_rate_limit_refusals_total") == 1
    assert value(second, "phoneauth_rate_limit_refusals_total") == 0
