"""/api/sms-routing: standby connectors masked like connectors, rules refused with stable codes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from phoneauth.domain.tenants import TenantKind
from phoneauth.wiring import Services

HTTP_SMS = "http-sms"
MASK = "**********"


TOKEN = "s3cret-token"


def http_config() -> dict[str, Any]:
    return {"endpoint": "https://sms.example.com/send", "authorization": f"Bearer {TOKEN}"}


async def add(api: httpx.AsyncClient, config: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await api.post(
        "/api/sms-routing/connectors",
        json={"connectorId": HTTP_SMS, "config": config or http_config()},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_without_rules_the_defaults_are_shown(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/sms-routing")).json()
    assert body == {
        "standbyConnectors": [],
        "routes": [],
        "fallback": [],
        "deadlineSeconds": 10.0,
        "circuitBreaker": {"failureThreshold": 5, "cooldownSeconds": 30.0},
        "configured": False,
        "circuits": [],
    }


async def test_standby_secrets_are_encrypted_masked_and_kept_by_the_mask(
    api: httpx.AsyncClient, services: Services
) -> None:
    added = await add(api)
    assert added["config"]["authorization"] == MASK
    assert added["connectorId"] == HTTP_SMS
    [row] = await services.delivery_routing.store.list_standby("default")
    assert "s3cret-token" not in row.config_encrypted
    patched = await api.patch(
        f"/api/sms-routing/connectors/{added['id']}",
        json={"config": {**http_config(), "authorization": MASK}},
    )
    assert patched.status_code == 200, patched.text
    [row] = await services.delivery_routing.store.list_standby("default")
    assert services.cipher.decrypt(row.config_encrypted)["authorization"] == ("Bearer s3cret-token")
    listed = (await api.get("/api/sms-routing")).json()["standbyConnectors"]
    assert [(c["id"], c["config"]["authorization"]) for c in listed] == [(added["id"], MASK)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"connectorId": "no-such-factory", "config": {}},
            422,
            "connector.not_found_with_connector_id",
        ),
        (
            {"connectorId": HTTP_SMS, "config": {"endpoint": "not a url"}},
            400,
            "connector.invalid_config",
        ),
        (
            {"connectorId": "simple-mail-transfer-protocol", "config": {}},
            400,
            "connector.unexpected_type",
        ),
        ({"connectorId": HTTP_SMS}, 400, "connector.invalid_config"),
        ({"config": {}}, 400, "guard.invalid_input"),
    ],
)
async def test_a_bad_standby_connector_is_refused_with_its_code(
    api: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    response = await api.post("/api/sms-routing/connectors", json=body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


@pytest.mark.parametrize(
    ("rules", "code"),
    [
        ({"fallback": ["nobody"]}, "sms_routing.unknown_connector"),
        (
            {"routes": [{"countries": ["ZZ"], "connectors": ["active"]}]},
            "sms_routing.invalid_country",
        ),
        (
            {
                "routes": [
                    {"countries": ["CN"], "connectors": ["active"]},
                    {"countries": ["CN"], "connectors": ["active"]},
                ]
            },
            "sms_routing.duplicate_country",
        ),
        ({"deadlineSeconds": 3600}, "sms_routing.invalid_rules"),
        ({"deadlineSeconds": "soon"}, "sms_routing.invalid_rules"),
        ({"circuitBreaker": {"failureThreshold": 0}}, "sms_routing.invalid_rules"),
        ({"routes": [{"countries": ["CN"]}]}, "guard.invalid_input"),
        ({"other": 1}, "guard.invalid_input"),
    ],
)
async def test_bad_rules_are_400_with_a_stable_code_and_change_nothing(
    api: httpx.AsyncClient, rules: dict[str, Any], code: str
) -> None:
    response = await api.put("/api/sms-routing", json=rules)
    assert (response.status_code, response.json()["code"]) == (400, code), response.text
    assert (await api.get("/api/sms-routing")).json()["configured"] is False


async def test_a_standby_connector_named_by_a_rule_cannot_be_deleted(
    api: httpx.AsyncClient,
) -> None:
    standby = (await add(api))["id"]
    saved = await api.put(
        "/api/sms-routing",
        json={"routes": [{"countries": ["HK"], "connectors": [standby, "active"]}]},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["routes"] == [{"countries": ["HK"], "connectors": [standby, "active"]}]
    refused = await api.delete(f"/api/sms-routing/connectors/{standby}")
    assert (refused.status_code, refused.json()["code"]) == (409, "sms_routing.connector_in_use")
    assert (await api.put("/api/sms-routing", json={})).status_code == 200
    assert (await api.delete(f"/api/sms-routing/connectors/{standby}")).status_code == 204
    gone = await api.delete(f"/api/sms-routing/connectors/{standby}")
    assert (gone.status_code, gone.json()["code"]) == (404, "sms_routing.connector_not_found")


async def test_another_tenants_standby_connector_is_not_found(
    api: httpx.AsyncClient, services: Services
) -> None:
    standby = (await add(api))["id"]
    await services.tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    response = await api.patch(
        f"/t/other/api/sms-routing/connectors/{standby}", json={"config": http_config()}
    )
    assert (response.status_code, response.json()["code"]) == (
        404,
        "sms_routing.connector_not_found",
    )
    assert (await api.put("/t/other/api/sms-routing", json={"fallback": [standby]})).json()[
        "code"
    ] == "sms_routing.unknown_connector"
