"""Changing the SMS connector: what the new one replaces, and whether the templates can stay.

Saving a connector of another provider replaces the tenant's SMS connector with its templates
and settings (the domain's `create`). The set-up page shows what goes, and offers to keep the
current templates where the new provider reads them the same way: message texts (`content`)
move between providers that render text; template codes name templates approved at one provider
(Aliyun, Tencent) and mean nothing to another, so they stay only with the same provider.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from pydantic import ValidationError, create_model

from phoneauth.connectors import ConnectorFactory
from phoneauth.domain.connector_configs import SECRET_MASK
from phoneauth.domain.connector_management import ManagedConnector
from phoneauth.web.console.template_rules import TEMPLATES_KEY, template_rules

KEEP_FIELD = "keep_templates"


@dataclass(frozen=True, slots=True)
class SettingRow:
    label: str
    value: str
    secret: bool


@dataclass(frozen=True, slots=True)
class TemplateRow:
    usage_type: str
    locale: str | None
    text: str
    """The message text, or the provider's template code."""


@dataclass(frozen=True, slots=True)
class Replacement:
    """The active connector a save would replace, as the set-up page explains it."""

    current: ManagedConnector
    templates: list[TemplateRow]
    settings: list[SettingRow]
    keepable: bool
    reason: str
    """Why the templates can or cannot be kept, in a sentence."""

    @property
    def templates_json(self) -> Markup:
        """The saved templates for the page's script tag, keys in their saved order (Jinja's
        `tojson` sorts them, and the editor shows this text)."""
        return htmlsafe_json_dumps(self.current.config.get(TEMPLATES_KEY), dumps=json.dumps)


def _labels(factory: ConnectorFactory[Any]) -> dict[str, str]:
    return {
        (info.alias or name): info.title or (info.alias or name)
        for name, info in factory.config_model.model_fields.items()
    }


def _settings(current: ManagedConnector) -> list[SettingRow]:
    labels = _labels(current.factory)
    rows = []
    for key, value in current.config.items():
        if key == TEMPLATES_KEY or value is None:
            continue
        label = labels.get(key, key)
        if value == SECRET_MASK:
            rows.append(SettingRow(label, "a saved secret", secret=True))
        else:
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append(SettingRow(label, shown, secret=False))
    return rows


def _template_rows(templates: list[Any]) -> list[TemplateRow]:
    rows = []
    for template in templates:
        if not isinstance(template, dict):
            continue
        text = template.get("content", template.get("templateCode", ""))
        rows.append(
            TemplateRow(
                str(template.get("usageType", "?")),
                template.get("locale"),
                text if isinstance(text, str) else json.dumps(text, ensure_ascii=False),
            )
        )
    return rows


def _fit_problem(factory: ConnectorFactory[Any], templates: list[Any]) -> str | None:
    """The first reason the new connector's model refuses these templates; None if it takes
    them (the same validation as saving, limited to the templates field)."""
    fields = factory.config_model.model_fields
    info = next((i for n, i in fields.items() if (i.alias or n) == TEMPLATES_KEY), None)
    if info is None:
        return "it has no templates"
    # The field alone, with its constraints and validators (`unique_templates`) as declared.
    model = create_model("Templates", templates=(info.annotation, info))
    try:
        model.model_validate({TEMPLATES_KEY: templates})
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = " ".join(
            f"template {part + 1}" if isinstance(part, int) else str(part)
            for part in first["loc"][1:]
        )
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return None


def _keep_decision(
    current: ManagedConnector, factory: ConnectorFactory[Any], templates: list[Any]
) -> tuple[bool, str]:
    old, new = current.factory, factory
    if not templates:
        return False, f"{old.name} has no templates to keep."
    old_rules, new_rules = template_rules(old), template_rules(new)
    if new_rules is None:
        return False, f"{new.name} has no templates: its settings decide what is sent."
    same = old.id == new.id
    if old_rules is not None and old_rules.shape == "code" and not same:
        return False, (
            f"Your templates are codes of templates approved at {old.name}; {new.name} "
            "cannot use them, so they are replaced."
        )
    if new_rules.shape == "code" and not same:
        return False, (
            f"{new.name} sends templates approved in its own console, named by their "
            "template codes; your message texts cannot be kept."
        )
    problem = _fit_problem(new, templates)
    if problem is not None:
        return False, f"Your templates do not fit {new.name}'s format ({problem})."
    return True, f"{new.name} reads your templates as they are."


def describe_replacement(current: ManagedConnector, factory: ConnectorFactory[Any]) -> Replacement:
    raw = current.config.get(TEMPLATES_KEY)
    templates = raw if isinstance(raw, list) else []
    keepable, reason = _keep_decision(current, factory, templates)
    return Replacement(
        current=current,
        templates=_template_rows(templates),
        settings=_settings(current),
        keepable=keepable,
        reason=reason,
    )


def kept_templates(replacement: Replacement | None, form: Any) -> list[Any] | None:
    """The current templates when the admin keeps them (and they fit); otherwise None."""
    if replacement is None or not replacement.keepable or form.get(KEEP_FIELD) != "on":
        return None
    raw = replacement.current.config.get(TEMPLATES_KEY)
    return list(raw) if isinstance(raw, list) else None
