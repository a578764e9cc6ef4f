from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.servers import serve_in_thread

from phoneauth.connectors import SmsMessage, UsageType, load_registry
from phoneauth.storage.models import ConnectorRow
from phoneauth.wiring import Services

TWILIO = "twilio-short-message-service"
TEMPLATES = [
    {"usageType": "SignIn", "content": "Sign in with {{code}}"},
    {"usageType": "Generic", "content": "Generic {{code}}"},
    {"usageType": "Generic", "locale": "fr", "content": "Code {{code}} (fr)"},
]
SECRET = "tw-secret-7d1c9a"
TWILIO_CONFIG: dict[str, Any] = {
    "accountSID": "AC123",
    "authToken": SECRET,
    "fromMessagingServiceSID": "MG123",
    "templates": TEMPLATES,
}
MASK = "**********"
REFUSED_PHONE = "+4915100000000"
CONNECTOR_KEYS = {
    "id",
    "connectorId",
    "type",
    "config",
    "metadata",
    "syncProfile",
    "enableTokenStorage",
    "isDemo",
    "target",
    "name",
    "description",
    "logo",
    "logoDark",
    "readme",
    "configTemplate",
    "formItems",
    "platform",
}


def _client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://phoneauth.test",
        headers={"Authorization": f"Bearer {key}"},
    )


@pytest.fixture
def fake_twilio() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real server on 127.0.0.1 answering the Messages API as Twilio does."""
    seen: list[dict[str, Any]] = []
    fake = FastAPI()

    @fake.post("/2010-04-01/Accounts/{sid}/Messages.json")
    async def messages(sid: str, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        _, _, credentials = request.headers["authorization"].partition(" ")
        user, _, password = base64.b64decode(credentials).decode().partition(":")
        seen.append({"sid": sid, "form": form, "user": user, "password": password})
        if form["To"] == REFUSED_PHONE:
            error = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
            return JSONResponse(error, status_code=400)
        resource = {"sid": f"SMfake{len(seen)}", "status": "accepted", "to": form["To"]}
        return JSONResponse(resource, status_code=201)

    with serve_in_thread(fake) as url:
        yield url, seen


async def _raw_rows(services: Services) -> list[ConnectorRow]:
    async with AsyncSession(services.database.engine) as session:
        return list(await session.scalars(select(ConnectorRow)))


async def _create_tenant(api: httpx.AsyncClient, tenant_id: str, kind: str) -> None:
    created = await api.post(
        "/api/tenants", json={"id": tenant_id, "name": tenant_id, "kind": kind}
    )
    assert created.status_code == 201


# --- factories -------------------------------------------------------------------------------


async def test_factories_carry_logto_metadata_form_items_and_schema(
    api: httpx.AsyncClient,
) -> None:
    listed = await api.get("/api/connector-factories")
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()] == load_registry().ids()
    twilio = (await api.get(f"/api/connector-factories/{TWILIO}")).json()
    assert twilio["type"] == "Sms"
    assert twilio["target"] == "twilio-sms"
    assert twilio["name"] == {"en": "Twilio"}
    assert twilio["platform"] is None
    assert twilio["isDemo"] is False
    assert twilio["logo"].startswith("data:image/svg+xml;base64,")
    assert twilio["readme"].startswith("# ")
    items = {item["key"]: item for item in twilio["formItems"]}
    assert items["authToken"]["isConfidential"] is True
    assert items["templates"]["type"] == "Json"
    schema = twilio["configSchema"]
    assert schema["properties"]["authToken"]["writeOnly"] is True
    assert set(schema["required"]) == {
        "accountSID",
        "authToken",
        "fromMessagingServiceSID",
        "templates",
    }


async def test_the_outbox_form_has_no_server_file_field(api: httpx.AsyncClient) -> None:
    outbox = (await api.get("/api/connector-factories/outbox-sms")).json()
    assert [item["key"] for item in outbox["formItems"]] == ["templates"]
    assert outbox["formItems"][0]["defaultValue"][0]["usageType"] == "SignIn"
    refused = await api.post(
        "/api/connectors",
        json={"connectorId": "outbox-sms", "config": {"filePath": "outbox.jsonl"}},
    )
    assert refused.status_code == 400
    assert refused.json()["details"]["errors"][0]["field"] == "filePath"


async def test_an_unknown_factory_is_404_entity_not_found(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/connector-factories/pigeon-sms")
    assert response.status_code == 404
    assert response.json()["code"] == "entity.not_found"


# --- create, read, update, delete ------------------------------------------------------------


async def test_create_answers_logtos_shape_with_secrets_masked_and_encrypted_at_rest(
    api: httpx.AsyncClient, services: Services
) -> None:
    created = await api.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": TWILIO_CONFIG}
    )
    assert created.status_code == 200
    body = created.json()
    assert set(body) == CONNECTOR_KEYS
    assert body["connectorId"] == TWILIO
    assert (body["type"], body["metadata"], body["syncProfile"]) == ("Sms", {}, False)
    assert (body["enableTokenStorage"], body["isDemo"], body["platform"]) == (False, False, None)
    assert body["target"] == "twilio-sms"
    assert body["formItems"]
    assert body["config"]["authToken"] == MASK
    assert body["config"]["accountSID"] == "AC123"
    for answer in (
        await api.get("/api/connectors"),
        await api.get(f"/api/connectors/{body['id']}"),
        await api.get(f"/t/default/api/connectors/{body['id']}"),
    ):
        assert answer.status_code == 200
        assert SECRET not in answer.text
        assert answer.text.count(MASK) == 1
    [row] = await _raw_rows(services)
    assert (row.id, row.tenant_id, row.type, row.connector_id) == (
        body["id"],
        "default",
        "Sms",
        TWILIO,
    )
    assert SECRET not in row.config_encrypted
    assert "AC123" not in row.config_encrypted
    assert services.cipher.decrypt(row.config_encrypted)["authToken"] == SECRET


async def test_a_client_may_propose_the_id(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/api/connectors", json={"connectorId": "outbox-sms", "id": "my-sms", "config": {}}
    )
    assert created.json()["id"] == "my-sms"
    assert (await api.get("/api/connectors/my-sms")).status_code == 200
    bad_id = await api.post("/api/connectors", json={"connectorId": "outbox-sms", "id": "a b"})
    assert bad_id.status_code == 400
    assert bad_id.json()["code"] == "guard.invalid_input"


async def test_invalid_config_is_400_naming_every_field(api: httpx.AsyncClient) -> None:
    response = await api.post(
        "/api/connectors",
        json={"connectorId": TWILIO, "config": {"accountSID": "AC1", "endpoint": "ftp://x"}},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "connector.invalid_config"
    fields = {problem["field"] for problem in body["details"]["errors"]}
    assert fields == {"authToken", "fromMessagingServiceSID", "templates", "endpoint"}
    for field in fields:
        assert field in body["message"]
    assert (await api.get("/api/connectors")).json() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"connectorId": "pigeon-sms", "config": {}}, 422, "connector.not_found_with_connector_id"),
        (
            {"connectorId": "outbox-sms", "metadata": {"name": {"en": "x"}}},
            400,
            "connector.cannot_overwrite_metadata_for_non_standard_connector",
        ),
        (
            {"connectorId": "outbox-sms", "syncProfile": True},
            422,
            "connector.invalid_type_for_syncing_profile",
        ),
        ({"connectorId": "outbox-sms", "enableTokenStorage": True}, 400, "guard.invalid_input"),
        ({"config": {}}, 400, "guard.invalid_input"),
        ({"connectorId": "outbox-sms", "config": [1]}, 400, "guard.invalid_input"),
    ],
)
async def test_create_refusals_use_logtos_codes(
    api: httpx.AsyncClient, body: dict[str, Any], status: int, code: str
) -> None:
    response = await api.post("/api/connectors", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert (await api.get("/api/connectors")).json() == []


@pytest.mark.parametrize("flag", ["enableTokenStorage", "syncProfile"])
@pytest.mark.parametrize("value", [0, 0.0, "false", "no"])
async def test_logtos_flags_take_json_booleans_only(
    api: httpx.AsyncClient, flag: str, value: object
) -> None:
    """Found by schemathesis: `enableTokenStorage: 0` passed as `false` (0 == False in Python),
    though the OpenAPI document says `const: false`; lax bools took `0` and `"no"` too."""
    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms", flag: value})
    assert created.status_code == 400
    assert created.json()["details"]["errors"][0]["field"].startswith(f"body.{flag}")
    assert (await api.get("/api/connectors")).json() == []
    saved = (await api.post("/api/connectors", json={"connectorId": "outbox-sms"})).json()
    patched = await api.patch(f"/api/connectors/{saved['id']}", json={flag: value})
    assert patched.status_code == 400
    assert patched.json()["code"] == "guard.invalid_input"


async def test_logto_scripts_sending_social_defaults_still_work(api: httpx.AsyncClient) -> None:
    body = {
        "connectorId": "outbox-sms",
        "config": {"filePath": ""},
        "metadata": {},
        "syncProfile": False,
        "enableTokenStorage": False,
    }
    response = await api.post("/api/connectors", json=body)
    assert response.status_code == 200
    assert "filePath" not in response.json()["config"]  # cleanDeep dropped the empty string


async def test_patch_replaces_the_config_and_the_mask_keeps_the_stored_secret(
    api: httpx.AsyncClient, services: Services
) -> None:
    created = (
        await api.post("/api/connectors", json={"connectorId": TWILIO, "config": TWILIO_CONFIG})
    ).json()
    read_back = (await api.get(f"/api/connectors/{created['id']}")).json()["config"]
    patched = await api.patch(
        f"/api/connectors/{created['id']}",
        json={"config": read_back | {"fromMessagingServiceSID": "MG999"}},
    )
    assert patched.status_code == 200
    assert patched.json()["config"]["fromMessagingServiceSID"] == "MG999"
    assert patched.json()["config"]["authToken"] == MASK
    [row] = await _raw_rows(services)
    stored = services.cipher.decrypt(row.config_encrypted)
    assert (stored["authToken"], stored["fromMessagingServiceSID"]) == (SECRET, "MG999")
    # The config is replaced, as in Logto: a key left out is gone (here: back to its default).
    without_risk = read_back | {"disableRiskCheck": True}
    await api.patch(f"/api/connectors/{created['id']}", json={"config": without_risk})
    await api.patch(f"/api/connectors/{created['id']}", json={"config": read_back})
    [row] = await _raw_rows(services)
    assert services.cipher.decrypt(row.config_encrypted)["disableRiskCheck"] is False
    new_secret = await api.patch(
        f"/api/connectors/{created['id']}",
        json={"config": read_back | {"authToken": "rotated-token-t2"}},
    )
    # A distinctive value: "t2" alone also turned up inside random connector ids.
    assert "rotated-token-t2" not in new_secret.text
    [row] = await _raw_rows(services)
    assert services.cipher.decrypt(row.config_encrypted)["authToken"] == "rotated-token-t2"
    unchanged = await api.patch(f"/api/connectors/{created['id']}", json={})
    assert unchanged.status_code == 200
    assert unchanged.json()["config"] == new_secret.json()["config"]


async def test_patch_refusals(api: httpx.AsyncClient) -> None:
    created = (
        await api.post("/api/connectors", json={"connectorId": TWILIO, "config": TWILIO_CONFIG})
    ).json()
    invalid = await api.patch(
        f"/api/connectors/{created['id']}", json={"config": {"accountSID": ""}}
    )
    assert invalid.status_code == 400
    assert invalid.json()["code"] == "connector.invalid_config"
    assert "accountSID" in {p["field"] for p in invalid.json()["details"]["errors"]}
    metadata = await api.patch(f"/api/connectors/{created['id']}", json={"metadata": {"a": 1}})
    assert metadata.status_code == 400
    missing = await api.patch("/api/connectors/nope", json={"config": TWILIO_CONFIG})
    assert missing.status_code == 404
    assert missing.json()["code"] == "connector.not_found"


async def test_get_and_delete(api: httpx.AsyncClient, services: Services) -> None:
    created = (await api.post("/api/connectors", json={"connectorId": "outbox-sms"})).json()
    # The default sign-in experience signs up by phone: only a forced delete goes through.
    deleted = await api.delete(f"/api/connectors/{created['id']}", params={"force": "true"})
    assert deleted.status_code == 204
    assert deleted.content == b""
    for response in (
        await api.get(f"/api/connectors/{created['id']}"),
        await api.delete(f"/api/connectors/{created['id']}", params={"force": "true"}),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "connector.not_found"
    assert await _raw_rows(services) == []
    assert await services.connectors.active_sms_connector("default") is None


async def test_list_filters_by_target(api: httpx.AsyncClient) -> None:
    await api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    assert len((await api.get("/api/connectors?target=outbox-sms")).json()) == 1
    assert (await api.get("/api/connectors?target=twilio-sms")).json() == []


# --- one SMS connector per tenant ------------------------------------------------------------


async def test_a_new_sms_connector_replaces_the_old_one_immediately(
    api: httpx.AsyncClient, services: Services
) -> None:
    twilio = (
        await api.post("/api/connectors", json={"connectorId": TWILIO, "config": TWILIO_CONFIG})
    ).json()
    active = await services.connectors.active_sms_connector("default")
    assert active is not None
    assert active.row_id == twilio["id"]
    outbox = (await api.post("/api/connectors", json={"connectorId": "outbox-sms"})).json()
    listed = (await api.get("/api/connectors")).json()
    assert [(c["id"], c["connectorId"]) for c in listed] == [(outbox["id"], "outbox-sms")]
    active = await services.connectors.active_sms_connector("default")
    assert active is not None
    assert (active.row_id, active.factory_id) == (outbox["id"], "outbox-sms")
    assert (await api.get(f"/api/connectors/{twilio['id']}")).status_code == 404


async def test_twenty_concurrent_creates_leave_one_connector_and_no_5xx(
    api: httpx.AsyncClient, services: Services
) -> None:
    bodies = [
        {"connectorId": TWILIO, "config": TWILIO_CONFIG}
        if i % 2
        else {"connectorId": "outbox-sms", "config": {}}
        for i in range(20)
    ]
    responses = await asyncio.gather(*(api.post("/api/connectors", json=b) for b in bodies))
    statuses = [response.status_code for response in responses]
    assert all(status in (200, 409) for status in statuses), statuses
    created = {r.json()["id"] for r in responses if r.status_code == 200}
    rows = await _raw_rows(services)
    assert len(rows) == 1
    assert rows[0].id in created
    listed = (await api.get("/api/connectors")).json()
    assert [c["id"] for c in listed] == [rows[0].id]


# --- tenants ---------------------------------------------------------------------------------


async def test_connectors_are_invisible_and_untouchable_across_tenants(
    app: FastAPI, api: httpx.AsyncClient, services: Services
) -> None:
    await _create_tenant(api, "other", "development")
    mine = (
        await api.post("/api/connectors", json={"connectorId": TWILIO, "config": TWILIO_CONFIG})
    ).json()
    theirs = (await api.post("/t/other/api/connectors", json={"connectorId": "outbox-sms"})).json()
    for here, there, foreign in (("/api", "/t/other/api", theirs), ("/t/other/api", "/api", mine)):
        listed = (await api.get(f"{here}/connectors")).json()
        assert len(listed) == 1
        assert foreign["id"] not in {c["id"] for c in listed}
        assert (await api.get(f"{here}/connectors/{foreign['id']}")).status_code == 404
        patched = await api.patch(
            f"{here}/connectors/{foreign['id']}", json={"config": {"templates": TEMPLATES}}
        )
        assert patched.status_code == 404
        assert (await api.delete(f"{here}/connectors/{foreign['id']}")).status_code == 404
        assert (await api.get(f"{there}/connectors/{foreign['id']}")).status_code == 200
    # Replacing here never touches there.
    await api.post(
        "/api/connectors",
        json={"connectorId": "http-sms", "config": {"endpoint": "https://gw.example"}},
    )
    assert [c["id"] for c in (await api.get("/t/other/api/connectors")).json()] == [theirs["id"]]
    # A proposed id that another tenant uses is a conflict, never that tenant's row.
    clash = await api.post(
        "/api/connectors", json={"connectorId": "outbox-sms", "id": theirs["id"]}
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "connector.conflict"
    assert (await api.get(f"/t/other/api/connectors/{theirs['id']}")).status_code == 200
    _, scoped = await services.admin_keys.create("other only", "other")
    async with _client(app, scoped) as other_admin:
        refused = await other_admin.get("/api/connectors")
        assert refused.status_code == 403
        assert refused.json()["code"] == "auth.forbidden"
        assert (
            await other_admin.post("/api/connectors", json={"connectorId": "outbox-sms"})
        ).status_code == 403
        assert (await other_admin.get("/t/other/api/connectors")).status_code == 200
    assert {row.tenant_id for row in await _raw_rows(services)} == {"default", "other"}


async def test_a_production_tenant_refuses_the_outbox(api: httpx.AsyncClient) -> None:
    await _create_tenant(api, "live", "production")
    created = await api.post("/t/live/api/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 422
    assert created.json()["code"] == "connector.development_only"
    tested = await api.post(
        "/t/live/api/connectors/outbox-sms/test", json={"phone": "+4915112345678", "config": {}}
    )
    assert tested.status_code == 422
    outbox = await api.get("/t/live/api/outbox")
    assert outbox.status_code == 403
    assert outbox.json()["code"] == "connector.development_only"
    assert (await api.get("/t/live/api/connectors")).json() == []
    fine = await api.post(
        "/t/live/api/connectors", json={"connectorId": TWILIO, "config": TWILIO_CONFIG}
    )
    assert fine.status_code == 200


# --- test send -------------------------------------------------------------------------------


async def test_test_send_reaches_the_provider_with_000000_and_stores_nothing(
    api: httpx.AsyncClient,
    services: Services,
    fake_twilio: tuple[str, list[dict[str, Any]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url, seen = fake_twilio
    config = TWILIO_CONFIG | {"endpoint": url}
    sent = await api.post(
        f"/api/connectors/{TWILIO}/test", json={"phone": "4915112345678", "config": config}
    )
    assert sent.status_code == 204
    assert sent.content == b""
    assert seen[-1] == {
        "sid": "AC123",
        "form": {
            "To": "+4915112345678",
            "MessagingServiceSid": "MG123",
            "Body": "Generic 000000",
            "RiskCheck": "enable",
        },
        "user": "AC123",
        "password": SECRET,
    }
    localised = await api.post(
        f"/api/connectors/{TWILIO}/test",
        json={"phone": "+4915112345678", "config": config, "locale": "fr"},
    )
    assert localised.status_code == 204
    assert seen[-1]["form"]["Body"] == "Code 000000 (fr)"
    assert await _raw_rows(services) == []
    assert (await api.get("/api/connectors")).json() == []
    standard = set(vars(logging.makeLogRecord({})))
    logged = " ".join(
        f"{r.getMessage()} {[v for k, v in vars(r).items() if k not in standard]}"
        for r in caplog.records
    )
    assert "sms sent" in logged
    assert SECRET not in logged
    assert "000000" not in logged


async def test_test_send_answers_with_the_providers_refusal(
    api: httpx.AsyncClient, fake_twilio: tuple[str, list[dict[str, Any]]]
) -> None:
    url, seen = fake_twilio
    refused = await api.post(
        f"/api/connectors/{TWILIO}/test",
        json={"phone": REFUSED_PHONE, "config": TWILIO_CONFIG | {"endpoint": url}},
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["code"] == "connector.invalid_request_parameters"
    assert body["details"]["provider_code"] == 21211
    assert SECRET not in refused.text
    assert len(seen) == 1


async def test_test_send_to_an_unreachable_provider_is_a_502(
    api: httpx.AsyncClient, closed_port: int
) -> None:
    config = TWILIO_CONFIG | {"endpoint": f"http://127.0.0.1:{closed_port}"}
    response = await api.post(
        f"/api/connectors/{TWILIO}/test", json={"phone": "+4915112345678", "config": config}
    )
    assert response.status_code == 502
    assert response.json()["code"] == "connector.unreachable"


@pytest.mark.parametrize(
    ("factory_id", "body", "status", "code"),
    [
        ("pigeon-sms", {"phone": "+4915112345678", "config": {}}, 404, "connector.not_found"),
        (TWILIO, {"email": "a@example.com", "config": {}}, 400, "connector.unexpected_type"),
        (TWILIO, {"config": {}}, 400, "guard.invalid_input"),
        (TWILIO, {"phone": "+4915112345678"}, 400, "guard.invalid_input"),
        (TWILIO, {"phone": "+4915112345678", "config": {}}, 400, "connector.invalid_config"),
        (
            "outbox-sms",
            {"phone": "call me", "config": {}},
            400,
            "connector.invalid_request_parameters",
        ),
    ],
)
async def test_test_send_refusals(
    api: httpx.AsyncClient, factory_id: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = await api.post(f"/api/connectors/{factory_id}/test", json=body)
    assert response.status_code == status
    assert response.json()["code"] == code


# --- the development outbox ------------------------------------------------------------------


async def test_the_outbox_shows_codes_newest_first_per_tenant(
    api: httpx.AsyncClient, services: Services
) -> None:
    await _create_tenant(api, "other", "development")
    await api.post("/api/connectors", json={"connectorId": "outbox-sms"})
    active = await services.connectors.active_sms_connector("default")
    assert active is not None
    for code in ("111111", "222222"):
        message = SmsMessage("+4915112345678", UsageType.SIGN_IN, {"code": code})
        await active.connector.send(message)
    tested = await api.post(
        "/api/connectors/outbox-sms/test", json={"phone": "+4915199999999", "config": {}}
    )
    assert tested.status_code == 204
    everything = (await api.get("/api/outbox")).json()
    assert [m["code"] for m in everything] == ["000000", "222222", "111111"]
    assert everything[0]["usageType"] == "Generic"
    assert everything[1]["to"] == "+4915112345678"
    assert everything[1]["text"] == "Your sign-in verification code is 222222."
    mine = (await api.get("/api/outbox", params={"phone": "4915112345678"})).json()
    assert [m["code"] for m in mine] == ["222222", "111111"]
    assert (await api.get("/t/other/api/outbox")).json() == []
    bad = await api.get("/api/outbox", params={"phone": "nope"})
    assert bad.status_code == 400
    # The same with the number in the body, out of the URL and the access log.
    searched = await api.post("/api/outbox/search", json={"phone": "4915112345678"})
    assert (
        searched.json() == (await api.get("/api/outbox", params={"phone": "4915112345678"})).json()
    )
    assert (await api.post("/api/outbox/search", json={})).json() == everything
    assert (await api.post("/api/outbox/search", json={"phone": "nope"})).status_code == 400


async def test_every_connector_route_lists_its_error_codes(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    def codes(path: str, method: str) -> str:
        responses = paths[path][method]["responses"]
        return " ".join(r.get("description", "") for r in responses.values())

    assert "connector.invalid_config" in codes("/api/connectors", "post")
    assert "connector.not_found_with_connector_id" in codes("/api/connectors", "post")
    assert "connector.conflict" in codes("/api/connectors", "post")
    assert "connector.not_found" in codes("/api/connectors/{connector_id}", "get")
    assert "connector.not_found" in codes("/api/connectors/{connector_id}", "delete")
    assert "connector.invalid_config" in codes("/api/connectors/{connector_id}", "patch")
    assert "entity.not_found" in codes("/api/connector-factories/{factory_id}", "get")
    test_codes = codes("/api/connectors/{factory_id}/test", "post")
    for code in ("connector.not_found", "connector.unreachable", "connector.timeout"):
        assert code in test_codes
    assert "connector.development_only" in codes("/api/outbox", "get")
    assert "auth.unauthorized" in codes("/api/connectors", "get")
