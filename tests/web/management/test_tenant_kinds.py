"""A tenant's kind over the Management API: `PATCH /api/tenant` and `PATCH /api/tenants/{id}`.

Production is refused while the outbox (development only) is the SMS connector; development is
always allowed; the `default` tenant changes like any other. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from phoneauth.wiring import Services

TWILIO: dict[str, Any] = {
    "connectorId": "twilio-short-message-service",
    "config": {
        "accountSID": "AC123",
        "authToken": "tw-secret-kinds",
        "fromMessagingServiceSID": "MG123",
        "templates": [{"usageType": "Generic", "content": "Code {{code}}"}],
        "endpoint": "http://127.0.0.1:9",  # never called: no code is sent here
    },
}
OUTBOX = {"connectorId": "outbox-sms", "config": {}}
IN_USE = "tenant.development_connector_in_use"


def _client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://phoneauth.test",
        headers={"Authorization": f"Bearer {key}"},
    )


async def use(api: httpx.AsyncClient, connector: dict[str, Any], prefix: str = "") -> None:
    created = await api.post(f"{prefix}/api/connectors", json=connector)
    assert created.status_code == 200, created.text


async def kind_of(api: httpx.AsyncClient, prefix: str = "") -> str:
    return str((await api.get(f"{prefix}/api/tenant")).json()["kind"])


async def test_the_default_tenant_becomes_production_and_back(api: httpx.AsyncClient) -> None:
    changed = await api.patch("/api/tenant", json={"kind": "production"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["id"] == "default"
    assert changed.json()["kind"] == "production"
    assert await kind_of(api) == await kind_of(api, "/t/default") == "production"
    # Production's rules apply at once: the outbox is refused and closed.
    refused = await api.post("/api/connectors", json=OUTBOX)
    assert refused.status_code == 422
    assert refused.json()["code"] == "connector.development_only"
    assert (await api.get("/api/outbox")).status_code == 403
    back = await api.patch("/api/tenant", json={"kind": "development"})
    assert back.status_code == 200, back.text
    assert await kind_of(api) == "development"
    await use(api, OUTBOX)


async def test_production_is_refused_while_the_outbox_is_the_connector(
    api: httpx.AsyncClient,
) -> None:
    await use(api, OUTBOX)
    refused = await api.patch("/api/tenant", json={"kind": "production"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == IN_USE
    assert "real provider" in body["message"]
    assert body["details"] == {"tenant_id": "default", "connector_id": "outbox-sms"}
    assert await kind_of(api) == "development"
    other = await api.patch("/api/tenants/default", json={"kind": "production"})
    assert other.status_code == 409
    assert other.json()["code"] == IN_USE
    # With a real provider as the connector, the same switch is allowed.
    await use(api, TWILIO)
    changed = await api.patch("/api/tenant", json={"kind": "production"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["kind"] == "production"


async def test_development_is_always_allowed_and_an_unchanged_kind_is_a_no_op(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post(
        "/api/tenants", json={"id": "shop", "name": "Shop", "kind": "production"}
    )
    assert created.status_code == 201, created.text
    same = await api.patch("/t/shop/api/tenant", json={"kind": "production"})
    assert same.status_code == 200
    assert same.json()["kind"] == "production"
    nothing = await api.patch("/t/shop/api/tenant", json={})
    assert nothing.status_code == 200
    assert nothing.json()["kind"] == "production"
    changed = await api.patch("/api/tenants/shop", json={"kind": "development"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["kind"] == "development"
    assert await kind_of(api, "/t/shop") == "development"
    await use(api, OUTBOX, "/t/shop")
    assert await kind_of(api) == "development"  # the default tenant was left alone


async def test_a_scoped_key_changes_only_its_own_tenant(
    app: FastAPI, api: httpx.AsyncClient, services: Services
) -> None:
    created = await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    assert created.status_code == 201, created.text
    _, scoped = await services.admin_keys.create("acme only", "acme")
    async with _client(app, scoped) as client:
        own = await client.patch("/t/acme/api/tenant", json={"kind": "production"})
        assert own.status_code == 200, own.text
        by_id = await client.patch("/t/acme/api/tenants/acme", json={"kind": "development"})
        assert by_id.status_code == 200, by_id.text
        for path in ("/api/tenant", "/t/acme/api/tenants/default"):
            forbidden = await client.patch(path, json={"kind": "production"})
            assert forbidden.status_code == 403, path
            assert forbidden.json()["code"] == "auth.forbidden"
    assert await kind_of(api) == "development"
    missing = await api.patch("/api/tenants/nowhere", json={"kind": "production"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "tenant.not_found"


@pytest.mark.parametrize(
    "body",
    [{"kind": "staging"}, {"kind": 1}, {"name": "Renamed"}, {"settings": {}}, [1], "production"],
)
async def test_invalid_bodies_are_400_and_change_nothing(
    api: httpx.AsyncClient, body: object
) -> None:
    response = await api.patch("/api/tenant", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_input"
    assert response.json()["details"]["errors"]
    assert await kind_of(api) == "development"


async def test_the_kind_and_its_refusal_are_documented(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    for path in ("/api/tenant", "/api/tenants/{target_id}"):
        operation = document["paths"][path]["patch"]
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert reference == "#/components/schemas/TenantUpdate"
        conflict = operation["responses"]["409"]["description"]
        assert IN_USE in conflict
    kind = document["components"]["schemas"]["TenantUpdate"]["properties"]["kind"]
    assert "production" in kind["description"]
    assert document["components"]["schemas"]["TenantUpdate"]["additionalProperties"] is False
