from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from phoneauth.connectors import (
    ConnectorFactoryNotFoundError,
    ConnectorRegistry,
    DuplicateConnectorFactoryError,
    get_factory,
    list_factories,
    load_registry,
)
from phoneauth.connectors.registry import ENTRY_POINT_GROUP

BUILTIN_IDS = [
    "outbox-sms",
    "http-sms",
    "twilio-short-message-service",
    "smsaero-short-message-service",
    "gatewayapi-sms",
    "aliyun-short-message-service",
    "tencent-short-message-service",
    "vonage-sms",
    "outbox-email",
    "simple-mail-transfer-protocol",
    "http-email",
]
EMAIL_IDS = {"outbox-email", "simple-mail-transfer-protocol", "http-email"}


def test_builtins_carry_logtos_factory_ids() -> None:
    registry = ConnectorRegistry()
    registry.load_builtins()
    assert registry.ids() == BUILTIN_IDS


def test_every_builtin_has_metadata_for_the_console() -> None:
    for factory in list_factories():
        metadata = factory.metadata()
        assert metadata["type"] == ("Email" if factory.id in EMAIL_IDS else "Sms")
        assert metadata["logo"].startswith("data:image/svg+xml;base64,")
        assert metadata["readme"].startswith("# ")
        assert factory.name
        assert factory.description


def test_an_installed_third_party_distribution_is_discovered() -> None:
    registry = load_registry()
    assert "example-sms" in registry
    assert registry.ids()[: len(BUILTIN_IDS)] == BUILTIN_IDS
    assert registry.unavailable == []


def test_a_duplicate_factory_id_is_an_error() -> None:
    registry = ConnectorRegistry()
    registry.load_builtins()
    twin = EntryPoint(
        name="twin", value="phoneauth.connectors.providers.outbox:FACTORY", group=ENTRY_POINT_GROUP
    )
    with pytest.raises(DuplicateConnectorFactoryError) as info:
        registry.load_entry_points([twin])
    assert info.value.details == {"factory_id": "outbox-sms"}


def test_a_broken_plugin_is_listed_as_unavailable_with_its_reason() -> None:
    registry = ConnectorRegistry()
    broken = EntryPoint(
        name="broken-sms", value="no_such_module_here:FACTORY", group=ENTRY_POINT_GROUP
    )
    not_a_factory = EntryPoint(
        name="odd-sms", value="phoneauth.connectors:UsageType", group=ENTRY_POINT_GROUP
    )
    registry.load_entry_points([broken, not_a_factory])
    assert len(registry) == 0
    assert [u.name for u in registry.unavailable] == ["broken-sms", "odd-sms"]
    assert "ModuleNotFoundError" in registry.unavailable[0].reason
    assert "not a ConnectorFactory" in registry.unavailable[1].reason


def test_unknown_factory_id_has_a_stable_code() -> None:
    with pytest.raises(ConnectorFactoryNotFoundError) as info:
        get_factory("carrier-pigeon-sms")
    assert info.value.code == "connector.not_found_with_connector_id"
