"""`GET /metrics`: what happened (sends, code checks, refusals, HTTP requests) as a scrape of the
ASGI app shows it, behind `PHONEAUTH_METRICS_TOKEN`, with no phone number or code in a label."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from tests.resend_support import NO_COOLDOWN

from phoneauth.settings import Settings

TOKEN = "metrics-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+4915123456789"
LIMITED_PHONE = "+4917698765432"
NUMERIC_LABELS = {"le", "status"}
"""The labels whose values are numbers by nature; no other label value holds a digit."""


@pytest.fixture(scope="module")
def database_kind() -> str:
    """Metrics involve no store of their own: one kind of database is enough."""
    return "sqlite"


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings) -> Settings:
    return module_settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


@pytest.fixture
async def public(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    ) as client:
        yield client


@dataclass(frozen=True)
class Scrape:
    text: str
    samples: list[tuple[str, dict[str, str], float]]

    def value(self, name: str, **labels: str) -> float:
        """The sum over every sample of `name` whose labels include `labels`."""
        return sum(
            value
            for sample, sample_labels, value in self.samples
            if sample == name and labels.items() <= sample_labels.items()
        )


async def scrape(client: httpx.AsyncClient) -> Scrape:
    response = await client.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]
    return Scrape(response.text, samples)


def growth(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


async def use_connector(api: httpx.AsyncClient, factory_id: str, **config: Any) -> None:
    body = {"connectorId": factory_id, "config": config}
    response = await api.post("/api/connectors", json=body)
    assert response.status_code == 200, response.text


async def code_sent_to(api: httpx.AsyncClient, phone: str) -> str:
    messages = await api.post("/api/outbox/search", json={"phone": phone})
    assert messages.status_code == 200, messages.text
    code: str = messages.json()[0]["code"]
    return code


async def test_sends_checks_and_refusals_are_counted_and_no_label_holds_a_number_or_code(
    api: httpx.AsyncClient, public: httpx.AsyncClient, closed_port: int
) -> None:
    before = await scrape(public)

    # A provider nobody answers for: one failed send, by its error code.
    await use_connector(api, "http-sms", endpoint=f"http://127.0.0.1:{closed_port}/send")
    failed = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert failed.status_code == 502
    assert failed.json()["code"] == "connector.unreachable"

    # The outbox: a sent code, a wrong guess, then the right code (at the tenant's path).
    await use_connector(api, "outbox-sms")
    assert (await api.post("/api/verification-codes", json={"phone": PHONE})).status_code == 204
    code = await code_sent_to(api, PHONE)
    wrong = {"phone": PHONE, "verificationCode": f"{(int(code) + 1) % 10**6:06d}"}
    assert (await api.post("/api/verification-codes/verify", json=wrong)).status_code == 400
    right = {"phone": PHONE, "verificationCode": code}
    verified = await api.post("/t/default/api/verification-codes/verify", json=right)
    assert verified.status_code == 204

    # One message per number: the second send to it is refused by the recipient budget.
    limits = {"rateLimits": {"recipientLimit": 1}, **NO_COOLDOWN}
    assert (await api.patch("/api/tenant/settings", json=limits)).status_code == 200
    assert (await api.post("/api/verification-codes", json={"phone": LIMITED_PHONE})).is_success
    refused = await api.post("/api/verification-codes", json={"phone": LIMITED_PHONE})
    assert refused.status_code == 429
    assert (await public.get("/static/no-such-file.css")).status_code == 404
    assert (await public.get(f"/no-such-page/{PHONE}")).status_code == 404

    after = await scrape(public)
    sends = "phoneauth_messages_total"
    sms = {"tenant": "default", "channel": "sms", "country": "DE", "usage_type": "Generic"}
    assert growth(before, after, sends, connector="http-sms", outcome="failed", **sms) == 1
    unreachable = {"error_code": "connector.unreachable"}
    assert growth(before, after, sends, connector="http-sms", **unreachable) == 1
    assert growth(before, after, sends, connector="outbox-sms", outcome="sent", **sms) == 2
    assert growth(before, after, sends, outcome="sent", error_code="") == 2
    timed = "phoneauth_message_send_duration_seconds_count"
    assert growth(before, after, timed, connector="http-sms", outcome="failed") == 1
    assert growth(before, after, timed, connector="outbox-sms", outcome="sent") == 2
    assert growth(before, after, "phoneauth_message_failovers_total") == 0

    checks = "phoneauth_code_verifications_total"
    checked = {"tenant": "default", "channel": "sms", "country": "DE", "usage_type": "Generic"}
    assert growth(before, after, checks, outcome="verified", **checked) == 1
    mismatch = "verification_code.code_mismatch"
    assert growth(before, after, checks, outcome=mismatch, **checked) == 1
    refusals = "phoneauth_rate_limit_refusals_total"
    assert growth(before, after, refusals, tenant="default", budget="recipient") == 1
    assert growth(before, after, refusals) == 1

    requests = "phoneauth_http_requests_total"
    send_route = {"method": "POST", "route": "/api/verification-codes"}
    assert growth(before, after, requests, status="204", **send_route) == 2
    assert growth(before, after, requests, status="502", **send_route) == 1
    assert growth(before, after, requests, status="429", **send_route) == 1
    tenant_route = "/t/{tenant_id}/api/verification-codes/verify"
    assert growth(before, after, requests, route=tenant_route, status="204") == 1
    assert growth(before, after, requests, route="/static/{path}", status="404") == 1
    assert growth(before, after, requests, route="(unmatched)", status="404") == 1
    durations = "phoneauth_http_request_duration_seconds_count"
    assert growth(before, after, durations, **send_route) == 4

    # Labels name tenants, connectors, regions, routes: no number, no code, no path's id.
    for name, labels, _value in after.samples:
        for label, value in labels.items():
            if label not in NUMERIC_LABELS:
                assert not any(ch.isdigit() for ch in value), (name, label, value)
    # Nor anywhere else (`_created` lines are timestamps, where six digits may come by chance).
    counts = "\n".join(line for line in after.text.splitlines() if "_created" not in line)
    for secret in (PHONE.removeprefix("+49"), LIMITED_PHONE.removeprefix("+49"), code):
        assert secret not in counts


async def test_the_token_is_required_and_checked(public: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        refused = await public.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["code"] == "auth.unauthorized"
        assert TOKEN not in refused.text
    assert (await public.get("/metrics", headers=AUTH)).status_code == 200


async def test_openmetrics_when_the_scraper_asks_for_it(public: httpx.AsyncClient) -> None:
    accept = "application/openmetrics-text; version=1.0.0, text/plain;q=0.5"
    response = await public.get("/metrics", headers={**AUTH, "Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")


async def test_without_the_setting_metrics_are_off_and_say_how_to_turn_them_on(
    settings: Settings,
) -> None:
    from phoneauth.web.app import create_app

    app = create_app(settings.model_copy(update={"metrics_token": None}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
        ) as client,
    ):
        for headers in ({}, AUTH):
            response = await client.get("/metrics", headers=headers)
            assert response.status_code == 404
            assert response.json()["code"] == "metrics.disabled"
            assert "PHONEAUTH_METRICS_TOKEN" in response.json()["message"]
        assert app.state.metrics is None  # nothing is counted either


async def test_the_route_is_documented_beside_health(public: httpx.AsyncClient) -> None:
    document = (await public.get("/openapi.json")).json()
    operation = document["paths"]["/metrics"]["get"]
    assert operation["tags"] == ["metrics"]
    assert set(operation["responses"]) == {"200", "401", "404"}
    assert "text/plain" in operation["responses"]["200"]["content"]
