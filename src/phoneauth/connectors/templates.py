"""Choose the template for a message and render `{{variables}}` into it.

Choice order, most specific first: the usage type in the message's locale (`fr-CA`, then `fr`),
the Generic template in that locale, the usage type without locale, then Generic without locale.
The user's language wins over the usage-specific wording: a French user is better served by a
French generic text than by an English sign-in text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from phoneauth.connectors.base import Message, SmsMessage, UsageType
from phoneauth.connectors.errors import TemplateNotFoundError

_HANDLEBAR = re.compile(r"{{\s*([\w.]+)\s*}}")


class Template(Protocol):
    @property
    def usage_type(self) -> UsageType: ...
    @property
    def locale(self) -> str | None: ...


T = TypeVar("T", bound=Template)


def _locale_keys(locale: str | None) -> list[str | None]:
    if not locale:
        return [None]
    tag = locale.strip().replace("_", "-").lower()
    keys: list[str | None] = [tag]
    language = tag.split("-", 1)[0]
    if language != tag:
        keys.append(language)
    keys.append(None)
    return keys


def select_template(templates: Iterable[T], message: Message) -> T:
    """The best template for the message, or `TemplateNotFoundError`."""
    index: dict[tuple[UsageType, str | None], T] = {}
    for template in templates:
        key = (template.usage_type, template.locale.lower() if template.locale else None)
        index.setdefault(key, template)
    wanted = (message.usage_type, UsageType.GENERIC)
    for locale in _locale_keys(message.locale):
        for usage_type in wanted:
            found = index.get((usage_type, locale))
            if found is not None:
                return found
    raise TemplateNotFoundError(
        f"No template for usage type {message.usage_type.value} and no Generic template.",
        usage_type=message.usage_type.value,
    )


def _lookup(payload: Mapping[str, Any], path: str) -> str | None:
    root, *rest = path.split(".")
    if root not in payload:
        return None
    value: Any = payload[root]
    for part in rest:
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(content: str, payload: Mapping[str, Any]) -> str:
    """Logto's handlebars: `{{ code }}` and dotted paths; an unknown root stays as written."""

    def replace(match: re.Match[str]) -> str:
        value = _lookup(payload, match.group(1))
        return match.group(0) if value is None else value

    return _HANDLEBAR.sub(replace, content)


class TextTemplate(Template, Protocol):
    @property
    def content(self) -> str: ...


def render_sms(templates: Iterable[TextTemplate], message: SmsMessage) -> str:
    """The text an SMS carries: the chosen template rendered, then the message's autofill lines
    (`connectors/autofill.py`). Every connector that sends text uses it, so the lines and the
    message log's figures are the same for all of them."""
    text = render(select_template(templates, message).content, message.payload)
    if not message.autofill:
        return text
    code = message.payload.get("code")
    return message.autofill.append_to(text, None if code is None else str(code))


DEFAULT_TEXTS: dict[UsageType, str] = {
    UsageType.SIGN_IN: "Your sign-in verification code is {{code}}.",
    UsageType.REGISTER: "Your sign-up verification code is {{code}}.",
    UsageType.FORGOT_PASSWORD: "Your password reset verification code is {{code}}.",
    UsageType.ORGANIZATION_INVITATION: (
        "Your organization invitation code is {{code}}. Accept the invitation at {{link}}"
    ),
    UsageType.GENERIC: "Your verification code is {{code}}.",
    UsageType.USER_PERMISSION_VALIDATION: "Your identity verification code is {{code}}.",
    UsageType.BIND_NEW_IDENTIFIER: "Your phone number linking code is {{code}}.",
    UsageType.MFA_VERIFICATION: "Your two-step verification code is {{code}}.",
    UsageType.BIND_MFA: "Your two-step verification setup code is {{code}}.",
}
"""Starting texts for content-based connectors; no expiry is promised that the tenant may change.

phoneauth's invitations send `link`, the absolute URL of the acceptance page, beside the code.
"""


def default_content_templates() -> list[dict[str, str]]:
    """The nine default templates in Logto's JSON shape, for sample configs and the console."""
    return [{"usageType": usage.value, "content": text} for usage, text in DEFAULT_TEXTS.items()]


EMAIL_SUBJECTS: dict[UsageType, str] = {
    UsageType.SIGN_IN: "Your sign-in verification code",
    UsageType.REGISTER: "Your sign-up verification code",
    UsageType.FORGOT_PASSWORD: "Your password reset verification code",
    UsageType.ORGANIZATION_INVITATION: "You are invited to join an organization",
    UsageType.GENERIC: "Your verification code",
    UsageType.USER_PERMISSION_VALIDATION: "Your identity verification code",
    UsageType.BIND_NEW_IDENTIFIER: "Your email linking code",
    UsageType.MFA_VERIFICATION: "Your two-step verification code",
    UsageType.BIND_MFA: "Your two-step verification setup code",
}


def default_email_templates() -> list[dict[str, str]]:
    """The nine default email templates in Logto's JSON shape (plain text)."""
    return [
        {
            "usageType": usage.value,
            "contentType": "text/plain",
            "subject": EMAIL_SUBJECTS[usage],
            "content": text.replace("phone number", "email address"),
        }
        for usage, text in DEFAULT_TEXTS.items()
    ]
