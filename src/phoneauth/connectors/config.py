"""Connector configuration: the base model, SMS templates, and secret-safe (de)serialisation.

Config JSON keys are Logto's (`accountSID`, `authToken`, …) through pydantic aliases, so a Logto
connector config validates unchanged. Secrets are `SecretStr`: masked in `repr`, in
`model_dump_json()` and in the JSON schema (`writeOnly`), revealed only by `dump_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from phoneauth.connectors.base import UsageType
from phoneauth.connectors.errors import InvalidConfigError


class ConnectorConfig(BaseModel):
    """Base of every connector's config model: strict, immutable, Logto key names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_endpoint(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value.rstrip("/")


EndpointUrl = Annotated[str, AfterValidator(_check_endpoint)]
"""An absolute http(s) URL without a trailing slash (http is allowed for local gateways)."""


class _Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    usage_type: UsageType = Field(
        alias="usageType",
        title="Usage type",
        description="Which code this template is for; `Generic` is the fallback for every type.",
    )
    locale: str | None = Field(
        default=None,
        title="Locale",
        description="Language tag such as `fr` or `pt-BR`; used when the message's locale matches.",
    )


class ContentTemplate(_Template):
    """A template whose text phoneauth renders: `{{code}}` and other payload variables."""

    content: str = Field(
        min_length=1,
        title="Content",
        description="Message text; `{{code}}` is replaced by the verification code.",
    )


class CodeTemplate(_Template):
    """A template kept at the provider (Aliyun, Tencent); phoneauth sends the code to fill it."""

    template_code: str = Field(
        alias="templateCode",
        min_length=1,
        title="Template code",
        description="The id of the template approved in the provider's console.",
    )


T = TypeVar("T", bound=_Template)


def unique_templates(templates: tuple[T, ...]) -> tuple[T, ...]:
    """At most one template per (usage type, locale); provider template models reuse it."""
    seen: set[tuple[str, str | None]] = set()
    for template in templates:
        key = (template.usage_type.value, (template.locale or "").lower() or None)
        if key in seen:
            where = f" and locale {template.locale!r}" if template.locale else ""
            raise ValueError(f"two templates for usage type {template.usage_type.value}{where}")
        seen.add(key)
    return templates


ContentTemplates = Annotated[
    tuple[ContentTemplate, ...],
    Field(min_length=1, title="SMS templates", description="One template per usage type."),
    AfterValidator(unique_templates),
]
CodeTemplates = Annotated[
    tuple[CodeTemplate, ...],
    Field(min_length=1, title="SMS templates", description="One template per usage type."),
    AfterValidator(unique_templates),
]

C = TypeVar("C", bound=ConnectorConfig)


def parse_config(model: type[C], raw: Mapping[str, Any] | BaseModel) -> C:
    """Validate a Logto-shaped JSON object, naming every invalid or missing field."""
    if isinstance(raw, model):
        return raw
    data = raw.model_dump(by_alias=True) if isinstance(raw, BaseModel) else raw
    if not isinstance(data, Mapping):
        raise InvalidConfigError("The connector's config must be a JSON object.", errors=[])
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        problems = [
            {
                "field": ".".join(str(part) for part in issue["loc"]) or "(config)",
                "message": issue["msg"],
            }
            for issue in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        # A list whose items failed also reports "too short": keep only the precise item errors.
        problems = [
            problem
            for problem in problems
            if not any(other["field"].startswith(problem["field"] + ".") for other in problems)
        ]
        fields = ", ".join(problem["field"] for problem in problems)
        raise InvalidConfigError(
            f"The connector's config is invalid: {fields}.", errors=problems
        ) from None


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(item) for item in value]
    return value


def dump_config(config: ConnectorConfig, *, reveal_secrets: bool = False) -> dict[str, Any]:
    """The Logto-shaped JSON object; secrets stay masked unless storage asks for them."""
    if not reveal_secrets:
        dumped: dict[str, Any] = config.model_dump(mode="json", by_alias=True, exclude_none=True)
        return dumped
    return dict(_reveal(config.model_dump(by_alias=True, exclude_none=True)))


def secret_fields(model: type[ConnectorConfig]) -> list[str]:
    """The JSON keys that hold secrets, as the console and the masking code need them."""
    return [
        info.alias or name
        for name, info in model.model_fields.items()
        if info.annotation is SecretStr or info.annotation == (SecretStr | None)
    ]
