from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field, SecretStr

from phoneauth.connectors import (
    ConnectorConfig,
    HeaderSafe,
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


def _fields(error: InvalidConfigError) -> list[str]:
    return [problem["field"] for problem in error.details["errors"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://gw.example.com/\r\nX-Injected: 1",  # urlsplit alone would drop the CRLF
        "https://gw.exa mple.com",
        "https://gw.example.com\x00/",
        "https://gw.example.com:99999",
        "https://:443/",
    ],
)
def test_an_endpoint_the_client_could_not_send_to_is_refused(endpoint: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Sample, {**GOOD, "endpoint": endpoint})
    assert _fields(info.value) == ["endpoint"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:8080",
        "http://localhost:3001/send",
        "http://0.0.0.0",
        "http://[::1]:80",
        "http://[::ffff:127.0.0.1]",
        "http://10.0.0.7",
        "http://192.168.1.20/sms",
        "http://169.254.169.254/latest/meta-data",
        "http://2130706433",
    ],
)
def test_a_private_literal_endpoint_is_refused_when_private_hosts_are_not_allowed(
    endpoint: str,
) -> None:
    assert parse_config(Sample, {**GOOD, "endpoint": endpoint}).endpoint  # the library default
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Sample, {**GOOD, "endpoint": endpoint}, allow_private_hosts=False)
    assert _fields(info.value) == ["endpoint"]
    assert "PHONEAUTH_CONNECTOR_ALLOW_PRIVATE_HOSTS" in info.value.details["errors"][0]["message"]  # type: ignore[index]


def test_a_public_endpoint_is_kept_when_private_hosts_are_not_allowed() -> None:
    config = parse_config(
        Sample, {**GOOD, "endpoint": "https://api.example.com/v2/"}, allow_private_hosts=False
    )
    assert config.endpoint == "https://api.example.com/v2"


def _template(content: str) -> dict[str, object]:
    return {**GOOD, "templates": [{"usageType": "Generic", "content": content}]}


def test_template_content_is_at_most_1600_characters() -> None:
    assert len(parse_config(Sample, _template("x" * 1600)).templates[0].content) == 1600
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Sample, _template("x" * 1601))
    assert _fields(info.value) == ["templates.0.content"]


@pytest.mark.parametrize("control", ["\x00", "\t", "\r", "\x1b", "\x7f", "\x85", "\ud800"])
def test_template_content_has_no_control_character_but_line_breaks(control: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Sample, _template(f"Code{control}{{{{code}}}}"))
    assert _fields(info.value) == ["templates.0.content"]


def test_template_line_breaks_are_kept_and_crlf_is_read_as_lf() -> None:
    config = parse_config(Sample, _template("Your code:\r\n{{code}}\nBye"))
    assert config.templates[0].content == "Your code:\n{{code}}\nBye"
    schema = Sample.model_json_schema(by_alias=True)["$defs"]["ContentTemplate"]
    assert schema["properties"]["content"]["maxLength"] == 1600


class Headers(ConnectorConfig):
    token: Annotated[SecretStr | None, HeaderSafe] = None
    key_id: Annotated[str, HeaderSafe] = Field(alias="keyId")


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\x00", "a\tb", "é", "中", "a\x7f"])
def test_header_safe_fields_take_printable_ascii_only(value: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        parse_config(Headers, {"token": value, "keyId": value})
    assert sorted(_fields(info.value)) == ["keyId", "token"]
    assert secret_fields(Headers) == ["token"]  # the marker keeps the field a secret
    config = parse_config(Headers, {"token": "Bearer abc-._~+/=", "keyId": "AKID 1"})
    assert config.key_id == "AKID 1"
