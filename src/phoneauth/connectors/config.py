"""Connector configuration: the base model, SMS templates, and secret-safe (de)serialisation.

Config JSON keys are Logto's (`accountSID`, `authToken`, …) through pydantic aliases, so a Logto
connector config validates unchanged. Secrets are `SecretStr`: masked in `repr`, in
`model_dump_json()` and in the JSON schema (`writeOnly`), revealed only by `dump_config`.

Field rules shared by every connector, third-party ones included: `EndpointUrl` (an http(s) URL
the client can send to), `HeaderSafe` (a value sent in an HTTP header as is) and the template
text limits of `ContentTemplate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
)

from phoneauth.connectors.base import UsageType
from phoneauth.connectors.destinations import is_private_literal
from phoneauth.connectors.errors import InvalidConfigError

MAX_TEMPLATE_LENGTH = 1600
"""Characters in a template's content: ten SMS segments of 160 GSM-7 characters."""

MAX_EMAIL_CONTENT_LENGTH = 100_000
"""Characters in an email template's content: room for an HTML mail with inline styles."""

MAX_EMAIL_SUBJECT_LENGTH = 500
"""Characters in an email subject; mail clients show far fewer."""

ALLOW_PRIVATE_HOSTS = "allow_private_hosts"
"""The validation-context key that lets `EndpointUrl` name a loopback or private host."""

# Python's urlsplit silently drops CR, LF and tab, so they are refused before it sees them.
_URL_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]")
_HEADER_UNSAFE = re.compile(r"[^\x20-\x7e]")
# Template text: line breaks only. Tab, a lone CR, NUL, the other C0/C1 controls and lone
# surrogates (no encoder can send them) are refused.
_TEMPLATE_UNSAFE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


class ConnectorConfig(BaseModel):
    """Base of every connector's config model: strict, immutable, Logto key names."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _check_endpoint(value: str, info: ValidationInfo) -> str:
    if _URL_UNSAFE.search(value):
        raise ValueError("must not contain spaces, line breaks or control characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an absolute http:// or https:// URL")
    try:  # the parser the client sends with: what it refuses would fail every send
        url = httpx.URL(value)
        port = url.port
    except httpx.InvalidURL:
        raise ValueError("is not a valid URL") from None
    if not url.host:
        raise ValueError("must name a host")
    if port is not None and not 0 < port < 65536:
        raise ValueError("must have a port between 1 and 65535")
    context = info.context if isinstance(info.context, Mapping) else {}
    if not context.get(ALLOW_PRIVATE_HOSTS, True) and is_private_literal(
        url.raw_host.decode("ascii")
    ):
        raise ValueError(
            "must name a public host, not a loopback, private or link-local address "
            "(the operator can allow those with PHONEAUTH_CONNECTOR_ALLOW_PRIVATE_HOSTS)"
        )
    return value.rstrip("/")


EndpointUrl = Annotated[str, AfterValidator(_check_endpoint)]
"""An absolute http(s) URL without a trailing slash (http is allowed for local gateways).

When `parse_config` is given `allow_private_hosts=False`, a literal loopback, private or
link-local host (`127.0.0.1`, `[::1]`, `localhost`, `10.0.0.7`) is refused; the shared client
checks host names again on every send, against the addresses they resolve to.
"""


def header_safe(value: str | SecretStr | None) -> str | SecretStr | None:
    """Refuse a value that a connector puts into an HTTP header as is.

    Only visible ASCII and spaces: a line break would inject a header, servers refuse control
    characters, and the HTTP client encodes header values as ASCII.
    """
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if text is not None and _HEADER_UNSAFE.search(text):
        raise ValueError(
            "is sent in an HTTP header, so it must be printable ASCII: no line breaks, "
            "control characters or non-ASCII letters"
        )
    return value


HeaderSafe = AfterValidator(header_safe)
"""Marks a field sent in a header as is: `Annotated[SecretStr | None, HeaderSafe]`."""


def _unify_line_breaks(value: object) -> object:
    """CRLF becomes LF: browsers send a textarea's line breaks as CRLF."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _check_template_text(value: str) -> str:
    found = _TEMPLATE_UNSAFE.search(value)
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise ValueError(f"must not contain control characters but line breaks (found {code})")
    return value


TemplateText = Annotated[
    str, BeforeValidator(_unify_line_breaks), AfterValidator(_check_template_text)
]
"""SMS text: CRLF read as LF; no other control character."""


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

    content: TemplateText = Field(
        min_length=1,
        max_length=MAX_TEMPLATE_LENGTH,
        title="Content",
        description="Message text; `{{code}}` is replaced by the verification code. At most "
        f"{MAX_TEMPLATE_LENGTH} characters (ten SMS); no control characters but line breaks.",
    )


def _check_subject(value: str) -> str:
    if _HEADER_LINE_UNSAFE.search(value):
        raise ValueError("is an email header: one line, no control characters")
    return value


_HEADER_LINE_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
EmailSubject = Annotated[str, AfterValidator(_check_subject)]


class EmailTemplate(_Template):
    """Logto's email template: `subject` and `content` with `{{code}}`, text or HTML."""

    subject: EmailSubject = Field(
        min_length=1,
        max_length=MAX_EMAIL_SUBJECT_LENGTH,
        title="Subject",
        description="One line; `{{code}}` and other payload variables are replaced.",
    )
    content: TemplateText = Field(
        min_length=1,
        max_length=MAX_EMAIL_CONTENT_LENGTH,
        title="Content",
        description="The body; `{{code}}` is replaced by the verification code.",
    )
    content_type: Literal["text/plain", "text/html"] = Field(
        alias="contentType",
        title="Content type",
        description="`text/plain` or `text/html`, as in Logto.",
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
EmailTemplates = Annotated[
    tuple[EmailTemplate, ...],
    Field(min_length=1, title="Email templates", description="One template per usage type."),
    AfterValidator(unique_templates),
]
CodeTemplates = Annotated[
    tuple[CodeTemplate, ...],
    Field(min_length=1, title="SMS templates", description="One template per usage type."),
    AfterValidator(unique_templates),
]

C = TypeVar("C", bound=ConnectorConfig)


def parse_config(
    model: type[C], raw: Mapping[str, Any] | BaseModel, *, allow_private_hosts: bool = True
) -> C:
    """Validate a Logto-shaped JSON object, naming every invalid or missing field.

    `allow_private_hosts=False` also refuses an endpoint whose host is a literal loopback,
    private or link-local address, as the service does with the configs tenants' admins send.
    """
    if isinstance(raw, model):
        return raw
    data = raw.model_dump(by_alias=True) if isinstance(raw, BaseModel) else raw
    if not isinstance(data, Mapping):
        raise InvalidConfigError("The connector's config must be a JSON object.", errors=[])
    context = {ALLOW_PRIVATE_HOSTS: allow_private_hosts}
    try:
        return model.model_validate(dict(data), context=context)
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


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or annotation == (SecretStr | None)


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a nested object field (`auth`), also when it is optional."""
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def secret_fields(model: type[BaseModel]) -> list[str]:
    """The JSON keys that hold secrets, as the console and the masking code need them.

    A secret inside a nested object is named by its dotted path (`auth.pass`).
    """
    found: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if _is_secret(info.annotation):
            found.append(key)
            continue
        nested = _nested_model(info.annotation)
        if nested is not None:
            found += [f"{key}.{inner}" for inner in secret_fields(nested)]
    return found


def get_path(config: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path such as `auth.pass`, or `None`."""
    value: Any = config
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def set_path(config: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `config` with `value` at the dotted path; the objects on the way are copied."""
    head, _, rest = path.partition(".")
    copied = dict(config)
    if not rest:
        copied[head] = value
        return copied
    inner = copied.get(head)
    copied[head] = set_path(inner if isinstance(inner, Mapping) else {}, rest, value)
    return copied
