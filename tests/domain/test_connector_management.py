from __future__ import annotations

import base64
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorError,
    ConnectorFactoryNotFoundError,
    ConnectorRegistry,
    InvalidConfigError,
    InvalidRequestParametersError,
    SmsMessage,
    UsageType,
    load_registry,
)
from phoneauth.connectors.providers import outbox, twilio
from phoneauth.crypto import ConfigCipher
from phoneauth.domain.connector_management import (
    SECRET_MASK,
    ConnectorManagement,
    ConnectorNotFoundError,
    DevelopmentOnlyError,
    FactoryNotFoundError,
    OutboxForbiddenError,
    UnknownFactoryError,
    clean_deep,
    mask_secrets,
)
from phoneauth.domain.message_log import MessageLog
from phoneauth.domain.tenants import Tenant, TenantKind, TenantSettings
from phoneauth.storage.database import Database
from phoneauth.storage.repositories.connectors import SqlConnectorStore
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.tenants import SqlTenantStore

TWILIO = "twilio-short-message-service"
TEMPLATES = [
    {"usageType": "SignIn", "content": "Sign in with {{code}}"},
    {"usageType": "Generic", "content": "Generic {{code}}"},
    {"usageType": "Generic", "locale": "fr", "content": "Code {{code}} (fr)"},
]
TWILIO_CONFIG: dict[str, Any] = {
    "accountSID": "AC123",
    "authToken": "token-one",
    "fromMessagingServiceSID": "MG123",
    "templates": TEMPLATES,
}
FIXED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


class Provider:
    """Twilio as an httpx MockTransport: records each request, answers 201 or a set error."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.error: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            return self.error
        assert twilio.FACTORY.provider_fake is not None
        return twilio.FACTORY.provider_fake(request)

    def form(self, index: int = -1) -> dict[str, str]:
        return dict(parse_qsl(self.requests[index].content.decode()))

    def password(self, index: int = -1) -> str:
        scheme, _, value = self.requests[index].headers["authorization"].partition(" ")
        assert scheme == "Basic"
        return base64.b64decode(value).decode().split(":", 1)[1]


@pytest.fixture
async def tenants(database: Database) -> dict[str, Tenant]:
    store = SqlTenantStore(database)
    return {
        "dev": await store.create("dev", "Dev", TenantKind.DEVELOPMENT),
        "prod": await store.create("prod", "Prod", TenantKind.PRODUCTION),
    }


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
async def client(provider: Provider) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as http:
        yield http


def _service(
    database: Database, client: httpx.AsyncClient, registry: ConnectorRegistry | None = None
) -> ConnectorManagement:
    return ConnectorManagement(
        SqlConnectorStore(database),
        registry or load_registry(),
        client,
        ConfigCipher(b"k" * 32),
        clock=lambda: FIXED,
    )


@pytest.fixture
def service(database: Database, client: httpx.AsyncClient) -> ConnectorManagement:
    return _service(database, client)


async def _send(service: ConnectorManagement, tenant_id: str, code: str = "123456") -> str:
    active = await service.active_sms_connector(tenant_id)
    assert active is not None
    message = SmsMessage(to="+4915112345678", usage_type=UsageType.SIGN_IN, payload={"code": code})
    result = await active.connector.send(message)
    assert result.provider_message_id
    return active.factory_id


async def test_a_created_connector_is_masked_in_answers_and_sends_with_the_real_secret(
    service: ConnectorManagement, tenants: dict[str, Tenant], provider: Provider
) -> None:
    created = await service.create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    assert created.config["authToken"] == SECRET_MASK
    assert created.config["accountSID"] == "AC123"
    assert created.factory.id == TWILIO
    assert (created.created_at, created.updated_at) == (FIXED, FIXED)
    assert await service.get("dev", created.id) == created
    assert await service.list("dev") == [created]
    assert await _send(service, "dev") == TWILIO
    assert provider.password() == "token-one"
    assert provider.form()["Body"] == "Sign in with 123456"


async def test_invalid_config_names_every_bad_field(
    service: ConnectorManagement, tenants: dict[str, Tenant]
) -> None:
    bad = {"accountSID": "AC1", "templates": [{"usageType": "Nope", "content": "x"}], "odd": 1}
    with pytest.raises(InvalidConfigError) as info:
        await service.create(tenants["dev"], TWILIO, bad)
    fields = {problem["field"] for problem in info.value.details["errors"]}  # type: ignore[attr-defined]
    assert fields == {"authToken", "fromMessagingServiceSID", "templates.0.usageType", "odd"}
    assert (info.value.code, info.value.status) == ("connector.invalid_config", 400)
    assert await service.list("dev") == []


async def test_unknown_factories_get_logtos_codes(
    service: ConnectorManagement, tenants: dict[str, Tenant]
) -> None:
    with pytest.raises(UnknownFactoryError) as created:
        await service.create(tenants["dev"], "pigeon-sms", {})
    assert isinstance(created.value, ConnectorFactoryNotFoundError)
    assert (created.value.code, created.value.status) == (
        "connector.not_found_with_connector_id",
        422,
    )
    with pytest.raises(FactoryNotFoundError) as looked_up:
        service.factory("pigeon-sms")
    assert (looked_up.value.code, looked_up.value.status) == ("entity.not_found", 404)
    with pytest.raises(ConnectorNotFoundError) as tested:
        await service.test(tenants["dev"], "pigeon-sms", "+4915112345678", {})
    assert (tested.value.code, tested.value.status) == ("connector.not_found", 404)


async def test_the_mask_keeps_the_stored_secret_and_a_new_value_replaces_it(
    service: ConnectorManagement, tenants: dict[str, Tenant], provider: Provider
) -> None:
    created = await service.create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    # A client sends back exactly what it read, with one change.
    round_trip = created.config | {"fromMessagingServiceSID": "MG999"}
    updated = await service.update(tenants["dev"], created.id, round_trip)
    assert updated.config["fromMessagingServiceSID"] == "MG999"
    assert updated.config["authToken"] == SECRET_MASK
    await _send(service, "dev")
    assert provider.password() == "token-one"
    assert provider.form()["MessagingServiceSid"] == "MG999"
    await service.update(tenants["dev"], created.id, round_trip | {"authToken": "token-two"})
    await _send(service, "dev")
    assert provider.password() == "token-two"


async def test_a_mask_with_nothing_stored_behind_it_is_invalid(
    service: ConnectorManagement, tenants: dict[str, Tenant]
) -> None:
    http = {"endpoint": "https://gw.example.com/sms"}
    saved = await service.create(tenants["dev"], "http-sms", http)
    with pytest.raises(InvalidConfigError) as patched:
        await service.update(tenants["dev"], saved.id, http | {"signingSecret": SECRET_MASK})
    assert [p["field"] for p in patched.value.details["errors"]] == ["signingSecret"]  # type: ignore[attr-defined]
    # On create, only the same factory's current connector can lend its secrets.
    with pytest.raises(InvalidConfigError) as created:
        await service.create(tenants["dev"], TWILIO, TWILIO_CONFIG | {"authToken": SECRET_MASK})
    assert [p["field"] for p in created.value.details["errors"]] == ["authToken"]  # type: ignore[attr-defined]
    assert [c.factory.id for c in await service.list("dev")] == ["http-sms"]


async def test_change_connector_may_resend_the_masked_form_of_the_same_factory(
    service: ConnectorManagement, tenants: dict[str, Tenant], provider: Provider
) -> None:
    first = await service.create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    second = await service.create(tenants["dev"], TWILIO, first.config | {"accountSID": "AC2"})
    assert [c.id for c in await service.list("dev")] == [second.id]
    await _send(service, "dev")
    assert provider.password() == "token-one"
    assert provider.requests[-1].url.path == "/2010-04-01/Accounts/AC2/Messages.json"


async def test_creating_an_sms_connector_replaces_the_old_one_at_once(
    service: ConnectorManagement, tenants: dict[str, Tenant]
) -> None:
    await service.create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    assert await _send(service, "dev") == TWILIO
    replacement = await service.create(tenants["dev"], "outbox-sms", {})
    assert [c.id for c in await service.list("dev")] == [replacement.id]
    active = await service.active_sms_connector("dev")
    assert active is not None
    assert (active.row_id, active.factory_id) == (replacement.id, "outbox-sms")


async def test_every_instance_sees_a_change_immediately(
    database: Database, client: httpx.AsyncClient, tenants: dict[str, Tenant], provider: Provider
) -> None:
    one, two = _service(database, client), _service(database, client)
    created = await one.create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    assert await _send(two, "dev") == TWILIO  # built and remembered by instance two
    await one.update(tenants["dev"], created.id, created.config | {"authToken": "rotated"})
    await _send(two, "dev")
    assert provider.password() == "rotated"
    await one.delete("dev", created.id)
    assert await two.active_sms_connector("dev") is None


async def test_delete_and_unknown_ids(
    service: ConnectorManagement, tenants: dict[str, Tenant]
) -> None:
    created = await service.create(tenants["dev"], "outbox-sms", {})
    await service.delete("dev", created.id)
    for call in (
        service.get("dev", created.id),
        service.delete("dev", created.id),
        service.update(tenants["dev"], created.id, {}),
    ):
        with pytest.raises(ConnectorNotFoundError):
            await call
    assert await service.active_sms_connector("dev") is None


async def test_a_saved_connector_whose_factory_is_gone_is_hidden_not_a_crash(
    database: Database, client: httpx.AsyncClient, tenants: dict[str, Tenant]
) -> None:
    created = await _service(database, client).create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    without_twilio = ConnectorRegistry([outbox.FACTORY])
    service = _service(database, client, without_twilio)
    assert await service.active_sms_connector("dev") is None
    assert await service.list("dev") == []
    with pytest.raises(ConnectorNotFoundError):
        await service.get("dev", created.id)


async def test_test_send_uses_the_unsaved_config_and_the_generic_template(
    service: ConnectorManagement, tenants: dict[str, Tenant], provider: Provider
) -> None:
    await service.test(tenants["dev"], TWILIO, "4915112345678", TWILIO_CONFIG)
    assert provider.form() == {
        "To": "+4915112345678",
        "MessagingServiceSid": "MG123",
        "Body": "Generic 000000",
        "RiskCheck": "enable",
    }
    await service.test(tenants["dev"], TWILIO, "+4915112345678", TWILIO_CONFIG, locale="fr-CA")
    assert provider.form()["Body"] == "Code 000000 (fr)"
    assert await service.list("dev") == []
    assert await service.active_sms_connector("dev") is None


async def test_a_test_send_carries_the_tenants_autofill_lines_and_logs_their_size(
    database: Database, client: httpx.AsyncClient, tenants: dict[str, Tenant], provider: Provider
) -> None:
    log = MessageLog(SqlMessageLogStore(database))
    service = ConnectorManagement(
        SqlConnectorStore(database),
        load_registry(),
        client,
        ConfigCipher(b"k" * 32),
        clock=lambda: FIXED,
        message_log=log,
    )
    settings = TenantSettings.model_validate({"webOtpDomain": "id.example.com"})
    tenant = dataclasses.replace(tenants["dev"], settings=settings)
    await service.test(tenant, TWILIO, "+4915112345678", TWILIO_CONFIG)
    assert provider.form()["Body"] == "Generic 000000\n@id.example.com #000000"
    [entry] = (await log.query("dev")).entries
    assert (entry.encoding, entry.segments, entry.characters) == ("GSM-7", 1, 38)


async def test_test_send_answers_with_the_connectors_error(
    service: ConnectorManagement, tenants: dict[str, Tenant], provider: Provider
) -> None:
    provider.error = httpx.Response(401, json={"code": 20003, "message": "Authenticate"})
    with pytest.raises(AuthorizationFailedError):
        await service.test(tenants["dev"], TWILIO, "+4915112345678", TWILIO_CONFIG)
    with pytest.raises(InvalidRequestParametersError):
        await service.test(tenants["dev"], TWILIO, "not a phone", TWILIO_CONFIG)
    with pytest.raises(InvalidConfigError):
        await service.test(tenants["dev"], TWILIO, "+4915112345678", {"accountSID": "AC1"})


async def test_test_send_may_use_the_stored_secret_of_the_same_factory(
    service: ConnectorManagement, tenants: dict[str, Tenant], provider: Provider
) -> None:
    saved = await service.create(tenants["dev"], TWILIO, TWILIO_CONFIG)
    await service.test(tenants["dev"], TWILIO, "+4915112345678", saved.config)
    assert provider.password() == "token-one"


async def test_production_tenants_refuse_the_outbox(
    service: ConnectorManagement, tenants: dict[str, Tenant]
) -> None:
    prod = tenants["prod"]
    for call in (
        service.create(prod, "outbox-sms", {}),
        service.test(prod, "outbox-sms", "+4915112345678", {}),
    ):
        with pytest.raises(DevelopmentOnlyError) as info:
            await call
        assert (info.value.code, info.value.status) == ("connector.development_only", 422)
    with pytest.raises(OutboxForbiddenError) as read:
        service.outbox_messages(prod)
    assert (read.value.code, read.value.status) == ("connector.development_only", 403)
    assert await service.list("prod") == []
    await service.create(prod, TWILIO, TWILIO_CONFIG)  # a real provider is fine


async def test_each_tenant_reads_only_its_own_outbox_newest_first(
    service: ConnectorManagement, tenants: dict[str, Tenant], database: Database
) -> None:
    other = await SqlTenantStore(database).create("other", "Other", TenantKind.DEVELOPMENT)
    await service.create(tenants["dev"], "outbox-sms", {})
    await service.create(other, "outbox-sms", {})
    await _send(service, "dev", "111111")
    await _send(service, "dev", "222222")
    await _send(service, "other", "333333")
    await service.test(tenants["dev"], "outbox-sms", "+4915199999999", {})
    codes = [m.code for m in service.outbox_messages(tenants["dev"])]
    assert codes == ["000000", "222222", "111111"]
    mine = service.outbox_messages(tenants["dev"], "0049 151 12345678")
    assert [m.code for m in mine] == ["222222", "111111"]
    assert mine[0].sent_at == FIXED
    assert mine[0].text == "Your sign-in verification code is 222222."
    assert [m.code for m in service.outbox_messages(other)] == ["333333"]


def test_clean_deep_drops_what_logto_drops() -> None:
    config = {
        "a": "",
        "b": None,
        "c": {},
        "d": [],
        "e": {"f": "", "g": 0, "h": False},
        "i": [{"j": None}, {"k": "v", "l": ""}, ""],
        "m": "kept",
    }
    assert clean_deep(config) == {"e": {"g": 0, "h": False}, "i": [{"k": "v"}], "m": "kept"}


def test_mask_secrets_masks_only_secret_fields_that_have_a_value() -> None:
    http = load_registry().get("http-sms").config_model
    config = {"endpoint": "https://x", "authorization": "Bearer t", "signingSecret": None}
    assert mask_secrets(http, config) == {
        "endpoint": "https://x",
        "authorization": SECRET_MASK,
        "signingSecret": None,
    }


async def test_the_outbox_file_cannot_be_set_over_the_api(
    service: ConnectorManagement, tenants: dict[str, Tenant], tmp_path: Any
) -> None:
    target = tmp_path / "appended.jsonl"
    for call in (
        service.create(tenants["dev"], "outbox-sms", {"filePath": str(target)}),
        service.test(tenants["dev"], "outbox-sms", "+4915112345678", {"filePath": str(target)}),
    ):
        with pytest.raises(InvalidConfigError) as info:
            await call
        assert [p["field"] for p in info.value.details["errors"]] == ["filePath"]  # type: ignore[attr-defined]
    assert not target.exists()
    assert await service.list("dev") == []


# --- private hosts and connectors that break the contract ---------------------------------------


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:9/x", "http://localhost:9", "http://[::1]", "http://10.0.0.7"]
)
async def test_a_private_literal_endpoint_is_refused_unless_the_operator_allows_it(
    database: Database,
    client: httpx.AsyncClient,
    tenants: dict[str, Tenant],
    provider: Provider,
    endpoint: str,
) -> None:
    config = TWILIO_CONFIG | {"endpoint": endpoint}
    strict = _service(database, client)
    for attempt in (
        strict.test(tenants["dev"], TWILIO, "+4915112345678", config),
        strict.create(tenants["dev"], TWILIO, config),
        strict.check(tenants["dev"], TWILIO, config),
    ):
        with pytest.raises(InvalidConfigError) as info:
            await attempt
        assert [p["field"] for p in info.value.details["errors"]] == ["endpoint"]  # type: ignore[attr-defined]
    assert provider.requests == []
    allowing = ConnectorManagement(
        SqlConnectorStore(database),
        load_registry(),
        client,
        ConfigCipher(b"k" * 32),
        allow_private_hosts=True,
    )
    await allowing.test(tenants["dev"], TWILIO, "+4915112345678", config)
    assert len(provider.requests) == 1


class Broken:
    """A third-party connector that breaks the contract: it raises a plain exception."""

    def __init__(self, config: Any, client: httpx.AsyncClient, **options: Any) -> None:
        pass

    async def send(self, message: SmsMessage) -> Any:
        raise ValueError("Invalid header value b'Bearer X\\r\\nX-Injected: 1'")


async def test_a_test_send_through_a_connector_that_raises_anything_is_a_coded_error(
    database: Database, client: httpx.AsyncClient, tenants: dict[str, Tenant]
) -> None:
    broken = dataclasses.replace(outbox.FACTORY, id="broken-sms", create=Broken, tags=())
    service = _service(database, client, ConnectorRegistry([broken]))
    with pytest.raises(ConnectorError) as info:
        await service.test(tenants["dev"], "broken-sms", "+4915112345678", {})
    assert info.value.code == "connector.general"
    assert "X-Injected" not in str(info.value.to_dict())
