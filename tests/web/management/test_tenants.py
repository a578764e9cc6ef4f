from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from phoneauth.wiring import Services


def _client(app: FastAPI, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test", headers=headers
    )


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic abc", "Bearer pa_not-a-real-key"]
)
async def test_missing_or_wrong_keys_get_401_in_the_envelope(
    app: FastAPI, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with _client(app) as client:
        response = await client.get("/api/tenant", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "auth.unauthorized"
    assert body["message"]


async def test_default_tenant_exists_at_the_root_and_under_t(api: httpx.AsyncClient) -> None:
    root = await api.get("/api/tenant")
    scoped = await api.get("/t/default/api/tenant")
    assert root.status_code == scoped.status_code == 200
    assert root.json() == scoped.json()
    assert root.json()["id"] == "default"
    assert root.json()["kind"] == "development"
    policy = root.json()["settings"]["verificationCodePolicy"]
    assert policy == {
        "expirationDuration": 600,
        "maxRetryAttempts": 10,
        "resendKeepsCode": True,
        "resendCooldownSeconds": 60,
    }


async def test_unknown_tenant_is_404_for_a_global_key(api: httpx.AsyncClient) -> None:
    response = await api.get("/t/nowhere/api/tenant")
    assert response.status_code == 404
    assert response.json()["code"] == "tenant.not_found"


async def test_tenant_keys_reach_only_their_tenant(
    app: FastAPI, api: httpx.AsyncClient, services: Services
) -> None:
    created = await api.post(
        "/api/tenants", json={"id": "acme", "name": "Acme", "kind": "production"}
    )
    assert created.status_code == 201
    assert created.json()["kind"] == "production"
    _, scoped_key = await services.admin_keys.create("acme only", "acme")
    async with _client(app, scoped_key) as client:
        assert (await client.get("/t/acme/api/tenant")).status_code == 200
        other = await client.get("/api/tenant")
        assert other.status_code == 403
        assert other.json()["code"] == "auth.forbidden"
        refused = await client.post("/api/tenants", json={"id": "evil", "name": "Evil"})
        assert refused.status_code == 403
        listed = await client.get("/t/acme/api/tenants")
        assert [t["id"] for t in listed.json()] == ["acme"]
    duplicate = await api.post("/api/tenants", json={"id": "acme", "name": "Again"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "tenant.already_exists"
    assert {t["id"] for t in (await api.get("/api/tenants")).json()} == {"default", "acme"}


@pytest.mark.parametrize(
    "body",
    [
        {"id": "A!", "name": "x"},
        {"id": "ok", "name": ""},
        {"id": "ok", "name": "x", "kind": "staging"},
        {},
    ],
)
async def test_invalid_tenant_bodies_are_400(
    api: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await api.post("/api/tenants", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "guard.invalid_input"
    assert response.json()["details"]["errors"]


async def test_settings_patch_merges_and_validates(api: httpx.AsyncClient) -> None:
    changed = await api.patch(
        "/api/tenant/settings", json={"verificationCodePolicy": {"maxRetryAttempts": 5}}
    )
    assert changed.status_code == 200
    policy = changed.json()["settings"]["verificationCodePolicy"]
    assert policy == {
        "expirationDuration": 600,
        "maxRetryAttempts": 5,
        "resendKeepsCode": True,
        "resendCooldownSeconds": 60,
    }
    assert (await api.get("/api/tenant")).json()["settings"]["verificationCodePolicy"] == policy
    resend = {"resendKeepsCode": False, "resendCooldownSeconds": 0}
    changed = await api.patch("/api/tenant/settings", json={"verificationCodePolicy": resend})
    assert changed.json()["settings"]["verificationCodePolicy"] == {**policy, **resend}
    bad = await api.patch(
        "/api/tenant/settings",
        json={
            "verificationCodePolicy": {"expirationDuration": 30, "resendCooldownSeconds": 3601},
            "nonsense": 1,
        },
    )
    assert bad.status_code == 400
    fields = {problem["field"] for problem in bad.json()["details"]["errors"]}
    assert fields == {
        "verificationCodePolicy.expirationDuration",
        "verificationCodePolicy.resendCooldownSeconds",
        "nonsense",
    }
    negative = {"verificationCodePolicy": {"resendCooldownSeconds": -1}}
    assert (await api.patch("/api/tenant/settings", json=negative)).status_code == 400
    not_an_object = await api.patch("/api/tenant/settings", json=[1, 2])
    assert not_an_object.status_code == 400
