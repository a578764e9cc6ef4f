"""The connector set-up form: Logto's `formItems` to fields, posted fields back to a config.

The items come from `connectors/forms.py` through the Management API's factory answer, so the
console and the API show the same form. A secret is never written into the page: editing a saved
connector shows it empty, and an empty secret is sent to the domain as the API's mask, which
keeps the stored value. A secret inside a JSON field (SMTP's `auth.pass`) shows as the mask when
saved and as `""` when typed, so a form shown again never carries what was typed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData

from phoneauth.connectors import ConnectorFactory, secret_fields
from phoneauth.connectors.config import get_path, set_path
from phoneauth.domain.connector_configs import SECRET_MASK
from phoneauth.web.human_messages import problem_sentence, subject_of
from phoneauth.web.management.connectors import factory_read

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@functools.cache
def _markdown() -> MarkdownIt:
    """Built on first use: markdown-it costs a few MB that a server nobody opens the console
    of never needs (`make bench` measures the resident memory).

    `html=False` escapes raw HTML: a third-party README is shown as its text, never run."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


FIELD_PREFIX = "cfg."


def readme_html(factory: ConnectorFactory[Any]) -> str:
    """The README as HTML, without its top heading: the page shows the provider's name."""
    text = factory.readme.lstrip()
    if text.startswith("# "):
        text = text.partition("\n")[2]
    return str(_markdown().render(text))


@dataclass
class FormField:
    """One rendered form item: Logto's item plus the value to show and its inline error."""

    item: dict[str, Any]
    value: Any = None
    saved_secret: bool = False
    errors: list[str] = field(default_factory=list)
    raw: str | None = None
    """What was typed into a JSON field that does not parse, shown again as typed (unless
    the field holds secrets)."""
    secret_paths: tuple[str, ...] = ()
    """Secrets inside this JSON field, as paths below it (`pass` for SMTP's `auth`)."""

    @property
    def key(self) -> str:
        return str(self.item["key"])

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.key

    @property
    def kind(self) -> str:
        return str(self.item["type"])

    @property
    def secret(self) -> bool:
        return bool(self.item.get("isConfidential"))

    @property
    def help_html(self) -> str:
        """The description as inline Markdown (`code`, **bold**); raw HTML is escaped."""
        return str(_markdown().renderInline(str(self.item.get("description", ""))))

    @property
    def text(self) -> str:
        """The value as the input shows it; a secret always shows nothing."""
        if self.secret:
            return ""
        if self.raw is not None:
            return "" if self.secret_paths else self.raw
        if self.value is None:
            return ""
        if self.kind == "Json":
            return json.dumps(self._masked(), indent=2, ensure_ascii=False)
        return str(self.value)

    def _masked(self) -> Any:
        """The JSON value without a typed secret: a saved one stays the mask, anything else
        reads `""`, to be typed again."""
        value = self.value
        if not isinstance(value, Mapping):
            return value
        for path in self.secret_paths:
            found = get_path(value, path)
            if found is not None and found != SECRET_MASK:
                value = set_path(value, path, "")
        return value

    @property
    def dropped_secret(self) -> bool:
        """A secret typed into this JSON field that the page will not show again."""
        if self.raw is not None:
            return bool(self.secret_paths)
        if not isinstance(self.value, Mapping):
            return False
        return any(
            get_path(self.value, path) not in (None, "", SECRET_MASK) for path in self.secret_paths
        )


def form_fields(
    factory: ConnectorFactory[Any], values: Mapping[str, Any] | None
) -> list[FormField]:
    """The fields of a new connector (`values` None: the items' defaults) or a saved one."""
    fields = []
    nested = [path.partition(".") for path in secret_fields(factory.config_model)]
    for item in factory_read(factory).formItems:
        key = item["key"]
        inner = tuple(rest for head, _, rest in nested if head == key and rest)
        if values is None:
            value = item.get("defaultValue")
            saved = False
        else:
            value = values.get(key)
            saved = value == SECRET_MASK
        fields.append(FormField(item=item, value=value, saved_secret=saved, secret_paths=inner))
    return fields


def config_from_form(
    fields: list[FormField], form: FormData
) -> tuple[dict[str, Any], dict[str, str]]:
    """The config the form describes, Logto's way (empty values dropped), and the fields that
    could not even be read (bad JSON, not a number). Field values are updated for re-display."""
    config: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for f in fields:
        raw = form.get(f.name)
        text = raw if isinstance(raw, str) else ""
        if f.kind == "Switch":
            config[f.key] = f.value = text == "on"
        elif f.kind == "MultiSelect":
            chosen = [v for v in form.getlist(f.name) if isinstance(v, str)]
            f.value = chosen
            if chosen:
                config[f.key] = chosen
        elif f.kind == "Json":
            f.value = None
            if text.strip():
                try:
                    config[f.key] = f.value = json.loads(text)
                except ValueError as error:
                    f.raw = text
                    problems[f.key] = f"This is not valid JSON: {error}."
        elif f.kind == "Number":
            f.value = text.strip()
            if f.value:
                try:
                    config[f.key] = int(f.value)
                except ValueError:
                    try:
                        config[f.key] = float(f.value)
                    except ValueError:
                        problems[f.key] = "Enter a number."
        elif f.secret:
            if text:
                config[f.key] = text
            elif f.saved_secret:
                config[f.key] = SECRET_MASK  # the API's mask: keep the stored secret
        else:
            f.value = text
            if text.strip():
                config[f.key] = text.strip() if f.kind == "Text" else text
    return config, problems


def labels_of(fields: list[FormField]) -> dict[str, str]:
    """Config key → the label the form shows for it."""
    return {f.key: str(f.item.get("label") or f.key) for f in fields}


def attach_errors(fields: list[FormField], problems: list[dict[str, Any]]) -> list[str]:
    """Put the domain's field errors under their fields, as sentences that name the field by
    its label; answer the ones no field shows."""
    by_key = {f.key: f for f in fields}
    labels = labels_of(fields)
    unplaced = []
    for problem in problems:
        path = str(problem.get("field", ""))
        message = str(problem.get("message", "is not valid"))
        target = by_key.get(path.partition(".")[0])
        if target is None:
            unplaced.append(problem_sentence(message, subject_of(path, labels)))
        else:
            subject = subject_of(path, labels, under_field=True)
            target.errors.append(problem_sentence(message, subject))
    return unplaced
