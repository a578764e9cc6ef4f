"""The migration preview as a person reads it: an object that changes is compared field by field.

The domain's diff names a whole setting (`signInExperience.signUp`, a template) with its value
before and after. Two JSON blobs side by side hide the one flag that differs, so an object is
spread into its fields (nested objects and lists of objects too, `methods[0].password`) and each
field says whether it changes; the page highlights those.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from phoneauth.domain.tenant_migration import FieldChange

_MISSING = object()


@dataclass(frozen=True, slots=True)
class FieldRow:
    name: str
    before: str
    after: str
    changed: bool


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """One changed setting; `fields` is empty when it is a single value (shown as one row)."""

    path: str
    before: str
    after: str
    fields: list[FieldRow]


def _shown(value: Any) -> str:
    if value is _MISSING or value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False)


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted leaf paths of nested objects and lists of objects; other values are leaves."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found |= _leaves(inner, f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        found = {}
        for index, inner in enumerate(value):
            found |= _leaves(inner, f"{prefix}[{index}]")
        return found
    return {prefix: value}


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and bool(value)


def change_groups(changes: list[FieldChange]) -> list[ChangeGroup]:
    groups = []
    for change in changes:
        if not (_is_object(change.before) or _is_object(change.after)):
            groups.append(
                ChangeGroup(change.path, _shown(change.before), _shown(change.after), fields=[])
            )
            continue
        before = _leaves(change.before) if _is_object(change.before) else {}
        after = _leaves(change.after) if _is_object(change.after) else {}
        rows = []
        for name in dict.fromkeys([*before, *after]):
            old, new = before.get(name, _MISSING), after.get(name, _MISSING)
            changed = _shown(old) != _shown(new)
            rows.append(FieldRow(name, _shown(old), _shown(new), changed))
        groups.append(
            ChangeGroup(change.path, _shown(change.before), _shown(change.after), fields=rows)
        )
    return groups
