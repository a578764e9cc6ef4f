"""POST /api/verification-codes and /verify, as Logto's Management API answers them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from tests import local_http
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import OTHER_PHONE, PHONE, Source, other_code, outbox_connector
from tests.resend_support import NO_COOLDOWN

from phoneauth.connectors.providers import outbox, twilio
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.rate_limit_fallback import FallbackCounters
from phoneauth.settings import Settings
from phoneauth.storage.rate_limit_redis import RedisCounters
from phoneauth.web.app import create_app
from phoneauth.wiring import Services


@pytest.fixture
async def box(services: Services) -> AsyncIterator[outbox.Outbox]:
    """An outbox connector as the default tenant's SMS connector."""
    box = outbox.Outbox()
    async with local_http.async_client() as client:
        services.codes.connectors = Source({"default": outbox_connector(client, box)})
        yield box


def delivered(box: outbox.Outbox, phone: str = PHONE) -> str:
    message = box.latest(phone)
    assert message is not None
    assert message.code is not None
    return message.code


async def test_send_then_verify_a_generic_code(api: httpx.AsyncClient, box: outbox.Outbox) -> None:
    sent = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert sent.status_code == 204
    assert sent.content == b""
    message = box.latest(PHONE)
    assert message is not None
    assert message.usage_type == "Generic"
    body = {"phone": PHONE, "verificationCode": delivered(box)}
    verified = await api.post("/api/verification-codes/verify", json=body)
    assert verified.status_code == 204
    again = await api.post("/api/verification-codes/verify", json=body)
    assert again.status_code == 400
    assert again.json()["code"] == "verification_code.not_found"


async def test_logtos_digits_only_phone_is_accepted(
    api: httpx.AsyncClient, box: outbox.Outbox
) -> None:
    assert (await api.post("/api/verification-codes", json={"phone": "4915112345678"})).is_success
    body = {"phone": "4915112345678", "verificationCode": delivered(box)}
    assert (await api.post("/api/verification-codes/verify", json=body)).status_code == 204


async def test_a_wrong_code_is_400_code_mismatch(
    api: httpx.AsyncClient, box: outbox.Outbox
) -> None:
    await api.post("/api/verification-codes", json={"phone": PHONE})
    body = {"phone": PHONE, "verificationCode": other_code(delivered(box))}
    response = await api.post("/api/verification-codes/verify", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "verification_code.code_mismatch"
    assert "retry-after" not in response.headers


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/api/verification-codes", {"phone": "+49123"}, "phone_number.invalid"),
        ("/api/verification-codes", {"phone": "+49 abc"}, "phone_number.invalid"),
        # Logto's guard takes any digits; no code was ever sent to them (Logto's order).
        (
            "/api/verification-codes/verify",
            {"phone": "12", "verificationCode": "123456"},
            "verification_code.not_found",
        ),
        (
            "/api/verification-codes/verify",
            {"phone": "12a", "verificationCode": "123456"},
            "phone_number.invalid",
        ),
    ],
)
async def test_an_invalid_phone_is_400(
    api: httpx.AsyncClient, box: outbox.Outbox, path: str, body: dict[str, str], code: str
) -> None:
    response = await api.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/verification-codes", {}),
        ("/api/verification-codes", {"email": "a@example.com", "phone": PHONE}),
        ("/api/verification-codes", {"email": "not-an-address"}),
        ("/api/verification-codes/verify", {"phone": PHONE}),
        ("/api/verification-codes/verify", {"phone": PHONE, "verificationCode": "1" * 65}),
    ],
)
async def test_malformed_bodies_are_400_invalid_input(
    api: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    response = await api.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_input"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b'["+4915112345678"]', "body"),
        (b'{"phone": 4915112345678}', "body.phone"),
        (b'{"phone": ""}', "body.phone"),
        (b'{"phone": "+4915112345678", "extra": 1}', "body.extra"),
    ],
)
async def test_a_bad_body_names_the_bad_field(
    api: httpx.AsyncClient, content: bytes, field: str
) -> None:
    """A body that is not JSON at all is `body`, not FastAPI's `body.<offset>`."""
    response = await api.post(
        "/api/verification-codes", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "guard.invalid_input"
    assert [problem["field"] for problem in body["details"]["errors"]] == [field]


async def test_the_body_is_checked_only_after_the_admin_key(api: httpx.AsyncClient) -> None:
    """The body is validated after the dependencies, the admin key first. (A body that is not
    JSON at all is refused before them, as on every other route.)"""
    response = await api.post(
        "/api/verification-codes",
        content=b'{"phone": 1}',
        headers={"authorization": "Bearer nope", "content-type": "application/json"},
    )
    assert response.status_code == 401


async def test_the_openapi_document_declares_both_bodies(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    paths, schemas = document["paths"], document["components"]["schemas"]

    def body_schema(path: str) -> dict[str, Any]:
        body = paths[path]["post"]["requestBody"]
        assert body["required"] is True
        name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        schema: dict[str, Any] = schemas[name]
        return schema

    # Logto's union: exactly one of `phone` and `email` (checked by the route, said in prose).
    send = body_schema("/api/verification-codes")
    assert {"phone", "email", "ip"} <= set(send["properties"])
    assert "exactly one" in send["description"]
    schema = body_schema("/api/verification-codes/verify")
    assert schema["required"] == ["verificationCode"]
    assert {"phone", "email"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    tenant_send = body_schema("/t/{tenant_id}/api/verification-codes")
    assert {"phone", "email"} <= set(tenant_send["properties"])


async def test_without_an_sms_connector_sending_is_501(
    api: httpx.AsyncClient, services: Services
) -> None:
    services.codes.connectors = Source({})
    response = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert response.status_code == 501
    assert response.json() == {
        "code": "connector.not_found",
        "message": "Cannot find any available connector for type: Sms.",
        "details": {"type": "Sms"},
    }


async def test_the_connector_source_is_read_at_every_send(
    api: httpx.AsyncClient, services: Services
) -> None:
    box = outbox.Outbox()
    services.codes.connectors = Source({})
    assert (await api.post("/api/verification-codes", json={"phone": PHONE})).status_code == 501
    async with local_http.async_client() as client:
        services.codes.connectors = Source({"default": outbox_connector(client, box)})
        assert (await api.post("/api/verification-codes", json={"phone": PHONE})).is_success
    assert box.latest(PHONE) is not None


async def test_a_provider_error_reaches_the_caller_with_its_code(
    api: httpx.AsyncClient, services: Services
) -> None:
    def provider(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": 20003, "message": "Authenticate"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as client:
        connector = twilio.FACTORY.build(twilio.FACTORY.sample_config, client)
        services.codes.connectors = Source(
            {"default": ActiveConnector("row-tw", twilio.FACTORY.id, connector)}
        )
        response = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert response.status_code == 502
    assert response.json()["code"] == "connector.authorization_failed"
    logs = await api.get("/api/message-logs", params={"status": "failed"})
    [row] = logs.json()
    assert (row["errorCode"], row["connectorId"]) == ("connector.authorization_failed", "row-tw")


async def test_the_recipient_limit_answers_429_with_retry_after(
    api: httpx.AsyncClient, box: outbox.Outbox
) -> None:
    limits = {"rateLimits": {"recipientLimit": 2}, **NO_COOLDOWN}
    patched = await api.patch("/api/tenant/settings", json=limits)
    assert patched.status_code == 200
    for _ in range(2):
        assert (await api.post("/api/verification-codes", json={"phone": PHONE})).is_success
    response = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "request.message_rate_limited"
    assert response.headers["retry-after"] == str(body["details"]["retry_after"])
    assert 590 <= int(response.headers["retry-after"]) <= 600
    assert len(box.messages()) == 2
    assert (await api.post("/api/verification-codes", json={"phone": OTHER_PHONE})).is_success


async def test_the_client_ip_budget_uses_the_peer_address(
    api: httpx.AsyncClient, box: outbox.Outbox
) -> None:
    await api.patch("/api/tenant/settings", json={"rateLimits": {"ipLimit": 1}})
    assert (await api.post("/api/verification-codes", json={"phone": PHONE})).is_success
    response = await api.post("/api/verification-codes", json={"phone": OTHER_PHONE})
    assert response.status_code == 429
    assert response.json()["code"] == "request.ip_rate_limited"
    assert "retry-after" in response.headers


async def test_the_second_of_two_allowed_wrong_codes_locks_then_429_with_retry_after(
    api: httpx.AsyncClient, box: outbox.Outbox
) -> None:
    limits = {"failedVerificationLimit": 2, "lockoutSeconds": 120}
    await api.patch("/api/tenant/settings", json={"rateLimits": limits})
    await api.post("/api/verification-codes", json={"phone": PHONE})
    code = delivered(box)
    wrong = {"phone": PHONE, "verificationCode": other_code(code)}
    for _ in range(2):
        mismatch = await api.post("/api/verification-codes/verify", json=wrong)
        assert mismatch.json()["code"] == "verification_code.code_mismatch"
    right = await api.post(
        "/api/verification-codes/verify", json={"phone": PHONE, "verificationCode": code}
    )
    assert right.status_code == 429
    assert right.json()["code"] == "session.verification_blocked_too_many_attempts"
    assert 115 <= int(right.headers["retry-after"]) <= 120
    again = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert again.status_code == 429
    assert again.json()["code"] == "session.verification_blocked_too_many_attempts"


async def test_codes_belong_to_the_tenant_of_the_path(
    api: httpx.AsyncClient, services: Services
) -> None:
    assert (await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})).status_code == 201
    box = outbox.Outbox()
    async with local_http.async_client() as client:
        services.codes.connectors = Source({"acme": outbox_connector(client, box)})
        assert (await api.post("/t/acme/api/verification-codes", json={"phone": PHONE})).is_success
    body = {"phone": PHONE, "verificationCode": delivered(box)}
    elsewhere = await api.post("/api/verification-codes/verify", json=body)
    assert elsewhere.json()["code"] == "verification_code.not_found"
    assert (await api.post("/t/acme/api/verification-codes/verify", json=body)).status_code == 204


async def test_the_openapi_document_lists_each_routes_error_codes(api: httpx.AsyncClient) -> None:
    paths: dict[str, Any] = (await api.get("/openapi.json")).json()["paths"]
    send = paths["/api/verification-codes"]["post"]["responses"]
    assert "connector.not_found" in send["501"]["description"]
    assert "request.message_rate_limited" in send["429"]["description"]
    assert "session.verification_blocked_too_many_attempts" in send["429"]["description"]
    assert "connector.authorization_failed" in send["502"]["description"]
    verify = paths["/api/verification-codes/verify"]["post"]["responses"]
    for code in ("not_found", "expired", "exceed_max_try", "code_mismatch"):
        assert f"verification_code.{code}" in verify["400"]["description"]
    assert "session.verification_blocked_too_many_attempts" in verify["429"]["description"]


# --- several instances on one Redis ---------------------------------------------------------


@pytest.fixture
def redis_settings(migrated_database: DatabaseUnderTest, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=migrated_database.url,
        database_schema=migrated_database.schema,
        secret_key=SecretStr("test-secret-key"),
        redis_url="redis://127.0.0.1:6379/0",
    )


async def test_with_a_redis_url_two_instances_share_the_send_budget(
    redis_settings: Settings,
) -> None:
    tenant_id = "r" + uuid.uuid4().hex[:12]  # keys hold the tenant id: unique per run
    first, second = create_app(redis_settings), create_app(redis_settings)
    box = outbox.Outbox()
    async with (
        first.router.lifespan_context(first),
        second.router.lifespan_context(second),
        local_http.async_client() as sms_client,
    ):
        one: Services = first.state.services
        two: Services = second.state.services
        counters = one.codes.rate_limits.counters
        assert isinstance(counters, FallbackCounters)  # memory behind Redis, for its outages
        assert isinstance(counters.shared, RedisCounters)
        _, key = await one.admin_keys.create("tests")
        for services in (one, two):
            services.codes.connectors = Source({tenant_id: outbox_connector(sms_client, box)})
        async with _client(first, key) as api_one, _client(second, key) as api_two:
            await api_one.post("/api/tenants", json={"id": tenant_id, "name": "Redis"})
            limits = {"rateLimits": {"recipientLimit": 2}, **NO_COOLDOWN}
            await api_one.patch(f"/t/{tenant_id}/api/tenant/settings", json=limits)
            path = f"/t/{tenant_id}/api/verification-codes"
            assert (await api_one.post(path, json={"phone": PHONE})).is_success
            assert (await api_two.post(path, json={"phone": PHONE})).is_success
            refused = await api_one.post(path, json={"phone": PHONE})
            assert refused.status_code == 429
            assert refused.headers["retry-after"]
            assert (await api_two.post(path, json={"phone": PHONE})).status_code == 429


def _client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://phoneauth.test",
        headers={"Authorization": f"Bearer {key}"},
    )
