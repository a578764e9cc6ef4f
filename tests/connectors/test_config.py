from __future__ import annotations

import pytest
from pydantic import Field, SecretStr

from phoneauth.connectors import (
    ConnectorConfig,
    InvalidConfigError,
    dump_config,
    parse_config,
    secret_fields,
)
from phoneauth.connectors.config import CodeTemplates, ContentTemplates, EndpointUrl


class Sample(ConnectorConfig):
    api_key: str = Field(alias="apiKey", title="API key")
    api_secret: SecretStr = Field(alias="apiSecret", title="API secret")
    endpoint: EndpointUrl | None = None
    templates: ContentTemplates


GOOD = {
    "apiKey": "key",
    "apiSecret": "hunter2-secret",
    "templates": [{"usageType": "Generic", "content": "{{code}}"}],
}


def test_logto_keys_validate_and_dump_back_unchanged() -> None:
    config = parse_config(Sample, GOOD)
    assert config.api_secret.get_secret_value() == "hunter2-secret"
    assert dump_config(config, reveal_secrets=True) == GOOD


def test_secrets_are_masked_everywhere_but_the_storage_dump() -> None:
    config = parse_config(Sample, GOOD)
    assert "hunter2" not in repr(config)
    assert "hunter2" not in config.model_dump_json()
    assert "hunter2" not in str(dump_config(config))
    assert secret_fields(Sample) == ["apiSecret"]
    schema = Sample.model_json_schema(by_alias=True)
    assert schema["properties"]["apiSecret"]["writeOnly"] is True


def test_every_bad_or_missing_field_is_named() -> None:
    bad = {"apiKey": 3, "templates": [{"usageType": "Nope", "content": ""}], "surprise": 1}
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Sample, bad)
    fields = {problem["field"] for problem in info.value.details["errors"]}  # type: ignore[attr-defined]
    assert fields == {
        "apiKey",
        "apiSecret",
        "templates.0.usageType",
        "templates.0.content",
        "surprise",
    }
    assert info.value.code == "connector.invalid_config"
    assert info.value.status == 400


def test_config_must_be_an_object() -> None:
    with pytest.raises(InvalidConfigError):
        parse_config(Sample, ["not", "an", "object"])  # type: ignore[arg-type]


@pytest.mark.parametrize("endpoint", ["ftp://x", "not a url", "https://", "/relative"])
def test_endpoint_override_must_be_absolute_http(endpoint: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Sample, {**GOOD, "endpoint": endpoint})
    assert info.value.details["errors"][0]["field"] == "endpoint"  # type: ignore[index]


def test_endpoint_keeps_http_for_local_gateways_and_drops_trailing_slash() -> None:
    config = parse_config(Sample, {**GOOD, "endpoint": "http://127.0.0.1:8080/"})
    assert config.endpoint == "http://127.0.0.1:8080"


def test_duplicate_templates_are_refused_but_locales_may_differ() -> None:
    twice = [{"usageType": "SignIn", "content": "a"}, {"usageType": "SignIn", "content": "b"}]
    with pytest.raises(InvalidConfigError, match="templates"):
        parse_config(Sample, {**GOOD, "templates": twice})
    localised = [
        {"usageType": "SignIn", "content": "a"},
        {"usageType": "SignIn", "content": "b", "locale": "fr"},
    ]
    assert len(parse_config(Sample, {**GOOD, "templates": localised}).templates) == 2


def test_templates_may_not_be_empty() -> None:
    with pytest.raises(InvalidConfigError):
        parse_config(Sample, {**GOOD, "templates": []})


class Coded(ConnectorConfig):
    templates: CodeTemplates


def test_code_templates_use_logtos_template_code_key() -> None:
    config = parse_config(Coded, {"templates": [{"usageType": "Generic", "templateCode": "SMS_1"}]})
    assert config.templates[0].template_code == "SMS_1"
