"""Logto's console form (`formItems`) derived from a connector's pydantic config model.

Logto declares each connector's form by hand next to its zod guard, and the two drift; here the
model is the only source. Each field becomes one item keyed by its JSON alias:

    SecretStr                     Text, isConfidential
    str                           Text
    int, float                    Number
    bool                          Switch (never required: `false` would read as empty)
    Literal[...], Enum            Select with selectItems
    list/tuple of Literal, Enum   MultiSelect
    anything else (templates)     Json

A field may force a type with `json_schema_extra={"formItemType": "MultilineText"}`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, TypeAdapter
from pydantic.fields import FieldInfo

FORM_ITEM_TYPES = ("Text", "Number", "MultilineText", "Switch", "Select", "MultiSelect", "Json")
"""Logto's `ConnectorConfigFormItemType` values."""

FORM_ITEM_TYPE_KEY = "formItemType"
"""The `json_schema_extra` key a field may set to choose its form item type."""


def _unwrap(annotation: Any) -> Any:
    """The type under `Annotated[...]` and `... | None`; a real union is returned as is."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _unwrap(members[0]) if len(members) == 1 else annotation
    return annotation


def _choices(annotation: Any) -> list[dict[str, Any]] | None:
    """`selectItems` for a Literal or an Enum; `None` for any other type."""
    if get_origin(annotation) is Literal:
        return [{"value": value, "title": str(value)} for value in get_args(annotation)]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return [
            {
                "value": member.value,
                "title": member.value
                if isinstance(member.value, str)
                else member.name.replace("_", " ").capitalize(),
            }
            for member in annotation
        ]
    return None


def _item_type(annotation: Any) -> tuple[str, list[dict[str, Any]] | None]:
    if annotation is SecretStr or annotation is str:
        return "Text", None
    if annotation is bool:
        return "Switch", None
    if annotation in (int, float):
        return "Number", None
    choices = _choices(annotation)
    if choices is not None:
        return "Select", choices
    if get_origin(annotation) in (list, tuple, set, frozenset):
        members = [arg for arg in get_args(annotation) if arg is not Ellipsis]
        inner = _choices(_unwrap(members[0])) if len(members) == 1 else None
        if inner is not None:
            return "MultiSelect", [{"value": choice["value"]} for choice in inner]
    return "Json", None


def _forced_type(info: FieldInfo) -> str | None:
    extra = info.json_schema_extra
    forced = extra.get(FORM_ITEM_TYPE_KEY) if isinstance(extra, dict) else None
    if forced is None:
        return None
    if forced not in FORM_ITEM_TYPES:
        raise ValueError(f"{FORM_ITEM_TYPE_KEY} must be one of {FORM_ITEM_TYPES}, not {forced!r}")
    return str(forced)


def _default(info: FieldInfo) -> Any:
    """The field's default as JSON, or `None` when it has none worth showing."""
    if info.is_required():
        return None
    value = info.get_default(call_default_factory=True)
    if value is None or isinstance(value, SecretStr):
        return None
    return TypeAdapter(Any).dump_python(value, mode="json", by_alias=True, exclude_none=True)


def form_item(key: str, info: FieldInfo, sample: Any = None) -> dict[str, Any]:
    """One Logto `ConnectorConfigFormItem` for one model field."""
    annotation = _unwrap(info.annotation)
    secret = annotation is SecretStr
    kind, choices = _item_type(annotation)
    kind = _forced_type(info) or kind
    item: dict[str, Any] = {
        "key": key,
        "label": info.title or key,
        "type": kind,
        "required": info.is_required() and kind != "Switch",
    }
    if kind == "Text":
        item["isConfidential"] = secret
    if choices is not None and kind in ("Select", "MultiSelect"):
        item["selectItems"] = choices
    default = _default(info)
    if default is not None:
        item["defaultValue"] = default
    elif sample is not None and kind == "Json":
        item["defaultValue"] = sample  # e.g. the default templates: a form to edit, not to invent
    elif sample is not None and not isinstance(sample, dict | list):
        item["placeholder"] = str(sample)
    if info.description:
        item["description"] = info.description
    return item


def form_items(
    config_model: type[BaseModel], sample: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Logto's `formItems` for a config model, in field order, keyed by JSON alias.

    `sample` (a factory's `sample_config`) fills `defaultValue` of Json fields without a default
    and `placeholder` of the other fields.
    """
    samples = sample or {}
    items = []
    for name, info in config_model.model_fields.items():
        key = info.alias or name
        items.append(form_item(key, info, samples.get(key)))
    return items
