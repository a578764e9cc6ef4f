"""What a connector's SMS templates must look like, from its config model, for the console.

The set-up page embeds these rules so that console.js checks the templates as the admin types
(unknown usage type, missing text, duplicates) against the same pydantic model the server
validates with: the JSON Schema of the `templates` field, plus the one rule a schema cannot say,
"one template per usage type and locale" (the kit's `unique_templates` validator). The shape
tells the page which hint to give: text phoneauth renders (`content`), or a template kept at the
provider and named by its code (`templateCode`, Aliyun and Tencent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AfterValidator
from pydantic.errors import PydanticUserError
from pydantic.fields import FieldInfo

from phoneauth.connectors import ConnectorFactory
from phoneauth.connectors.config import unique_templates

TEMPLATES_KEY = "templates"
Shape = Literal["content", "code"]


@dataclass(frozen=True, slots=True)
class TemplateRules:
    shape: Shape
    schema: dict[str, Any]
    """The field's JSON Schema with the model's `$defs`, so `$ref`s resolve in the browser."""
    unique: bool

    def as_json(self) -> dict[str, Any]:
        return {"shape": self.shape, "schema": self.schema, "unique": self.unique}


def _templates_field(factory: ConnectorFactory[Any]) -> tuple[str, FieldInfo] | None:
    for name, info in factory.config_model.model_fields.items():
        if (info.alias or name) == TEMPLATES_KEY:
            return info.alias or name, info
    return None


def _item_properties(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    items = schema.get("items", {})
    ref = items.get("$ref", "")
    if ref:
        items = defs.get(ref.rsplit("/", 1)[-1], {})
    properties = items.get("properties", {})
    return properties if isinstance(properties, dict) else {}


def _bare(schema: Any) -> Any:
    """The schema without its words (`title`, `description`): the page shows its own help,
    and the check needs only the rules."""
    if isinstance(schema, dict):
        return {
            key: _bare(value)
            for key, value in schema.items()
            if not (key in ("title", "description") and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_bare(value) for value in schema]
    return schema


def _is_unique(info: FieldInfo) -> bool:
    return any(
        isinstance(rule, AfterValidator) and rule.func is unique_templates for rule in info.metadata
    )


def template_rules(factory: ConnectorFactory[Any]) -> TemplateRules | None:
    """None when the connector has no `templates` field of either shape (or no JSON Schema)."""
    found = _templates_field(factory)
    if found is None:
        return None
    key, info = found
    try:
        model_schema = factory.config_model.model_json_schema(by_alias=True)
    except PydanticUserError:
        return None  # a plugin's config type without a schema: the server still checks
    field_schema = model_schema.get("properties", {}).get(key)
    if not isinstance(field_schema, dict):
        return None
    defs = model_schema.get("$defs", {})
    properties = _item_properties(field_schema, defs)
    if "content" in properties:
        shape: Shape = "content"
    elif "templateCode" in properties:
        shape = "code"
    else:
        return None
    schema = {key: value for key, value in field_schema.items() if key != "default"}
    return TemplateRules(shape, _bare(schema | {"$defs": defs}), _is_unique(info))
