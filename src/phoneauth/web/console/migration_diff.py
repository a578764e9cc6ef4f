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
    """The fields of one changed object, or the changed single values under one parent."""

    path: str
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


def _object_rows(before: Any, after: Any) -> list[FieldRow]:
    old = _leaves(before) if _is_object(before) else {}
    new = _leaves(after) if _is_object(after) else {}
    names = list(dict.fromkeys([*old, *new]))
    rows = []
    for name in names:
        left, right = old.get(name, _MISSING), new.get(name, _MISSING)
        # `methods: []` on one side, `methods[0].password` on the other: the fields say it.
        side = right if left is _MISSING else left if right is _MISSING else None
        nested = any(other.startswith((f"{name}[", f"{name}.")) for other in names)
        if side is not None and side in ([], {}) and nested:
            continue
        rows.append(FieldRow(name, _shown(left), _shown(right), _shown(left) != _shown(right)))
    return rows


def change_groups(changes: list[FieldChange]) -> list[ChangeGroup]:
    """An object is one group of its fields; single values are grouped by their parent path
    (`connector.config`), so every row reads under a heading."""
    groups: dict[str, list[FieldRow]] = {}
    for change in changes:
        if _is_object(change.before) or _is_object(change.after):
            groups.setdefault(change.path, []).extend(_object_rows(change.before, change.after))
            continue
        parent, _, name = change.path.rpartition(".")
        row = FieldRow(name, _shown(change.before), _shown(change.after), changed=True)
        groups.setdefault(parent or change.path, []).append(row)
    return [ChangeGroup(path, rows) for path, rows in groups.items()]
