"""Logto's user search (`packages/core/src/utils/search.ts`) read from query pairs.

`search=<v>` looks in every field, `search.<field>=<v>` in one; `mode` / `mode.<field>` pick
`like` (the default: the caller writes the `%`), `exact`, `similar_to` or `posix`;
`joint` (alias `jointMode`) joins the conditions with `or` (default) or `and`;
`isCaseSensitive=true` makes every comparison case-sensitive. Only `exact` takes repeated values.

Phones are stored in E.164 and Logto stores digits only: a phone is found by a value or pattern
written for either form (`4915112345678`, `+4915112345678`, `49151%`, `^\\+49`), so a script
written against Logto finds the same users.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.errors import PhoneauthError

FIELDS = {
    "id": "id",
    "primaryEmail": "primary_email",
    "primaryPhone": "phone",
    "username": "username",
    "name": "name",
}
"""Logto's searchable user fields, by API name, to the domain attribute each one reads."""


class SearchMode(StrEnum):
    EXACT = "exact"
    LIKE = "like"
    SIMILAR_TO = "similar_to"
    POSIX = "posix"


class InvalidSearchError(PhoneauthError):
    """The search parameters are invalid; `details.reason` says which and why."""

    code = "request.invalid_input"
    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(f"The search parameters are invalid: {reason}", reason=reason)


@dataclass(frozen=True, slots=True)
class SearchCondition:
    """One `search` or `search.<field>` parameter: `fields` empty means every field."""

    fields: tuple[str, ...]
    mode: SearchMode
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserSearch:
    conditions: tuple[SearchCondition, ...] = ()
    joint_and: bool = False
    case_sensitive: bool = False

    @property
    def empty(self) -> bool:
        return not self.conditions


def _one(values: list[str], key: str) -> str:
    if len(values) != 1:
        raise InvalidSearchError(f"`{key}` is given more than once.")
    return values[0]


def _mode(text: str, key: str) -> SearchMode:
    try:
        return SearchMode(text)
    except ValueError:
        raise InvalidSearchError(
            f"`{key}` must be one of exact, like, similar_to, posix."
        ) from None


def _field(key: str, prefix: str) -> str:
    name = key[len(prefix) :]
    if name not in FIELDS:
        raise InvalidSearchError(f"`{key}` names no searchable field ({', '.join(FIELDS)}).")
    return FIELDS[name]


def _phone_variants(values: tuple[str, ...]) -> tuple[str, ...]:
    """Phones are stored in E.164: an exact search for `4915112345678` finds `+4915112345678`."""
    found = list(values)
    for value in values:
        try:
            normalised = parse_phone(value)
        except InvalidPhoneNumberError:
            continue
        if normalised not in found:
            found.append(normalised)
    return tuple(found)


def parse_user_search(pairs: Iterable[tuple[str, str]]) -> UserSearch:
    """The search a query string asks for; other parameters (paging, `phone`) are ignored."""
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        if key == "search" or key.startswith(("search.", "mode")) or key in _FLAGS:
            grouped.setdefault(key, []).append(value)
    joint = "or"
    for key in ("joint", "jointMode"):
        if key in grouped:
            joint = _one(grouped[key], key)
    if joint not in ("or", "and"):
        raise InvalidSearchError("`joint` must be `or` or `and`.")
    sensitive_text = (
        _one(grouped["isCaseSensitive"], "isCaseSensitive")
        if ("isCaseSensitive" in grouped)
        else "false"
    )
    if sensitive_text not in ("true", "false"):
        raise InvalidSearchError("`isCaseSensitive` must be `true` or `false`.")
    case_sensitive = sensitive_text == "true"
    default_mode = _mode(_one(grouped["mode"], "mode"), "mode") if "mode" in grouped else None
    field_modes: dict[str, SearchMode] = {}
    for key, values in grouped.items():
        if key.startswith("mode."):
            field_modes[_field(key, "mode.")] = _mode(_one(values, key), key)
        elif key.startswith("mode") and key != "mode":
            raise InvalidSearchError(f"`{key}` is no search parameter.")
    conditions = []
    for key, values in grouped.items():
        if key != "search" and not key.startswith("search."):
            continue
        fields = () if key == "search" else (_field(key, "search."),)
        mode = (field_modes.get(fields[0]) if fields else None) or default_mode
        mode = mode or SearchMode.LIKE
        if any(not value for value in values):
            raise InvalidSearchError(f"`{key}` is empty.")
        if any("\x00" in value for value in values):
            raise InvalidSearchError(f"`{key}` holds a NUL character.")
        if len(values) > 1 and mode is not SearchMode.EXACT:
            raise InvalidSearchError(f"`{key}` may be repeated only in `exact` mode.")
        if mode is SearchMode.SIMILAR_TO and not case_sensitive:
            raise InvalidSearchError("`similar_to` needs `isCaseSensitive=true`.")
        if mode is SearchMode.POSIX:
            _check_regex(values[0], key)
        if mode is SearchMode.SIMILAR_TO:
            _check_regex(similar_to_regex(values[0]), key)
        found = tuple(values)
        if mode is SearchMode.EXACT and (not fields or fields == ("phone",)):
            found = _phone_variants(found)
        conditions.append(SearchCondition(fields, mode, found))
    return UserSearch(tuple(conditions), joint == "and", case_sensitive)


_FLAGS = ("joint", "jointMode", "isCaseSensitive")


def _check_regex(pattern: str, key: str) -> None:
    """A pattern Python cannot compile is refused before any database sees it."""
    try:
        re.compile(pattern)
    except re.error as error:
        raise InvalidSearchError(f"`{key}` is no valid regular expression ({error}).") from None


def similar_to_regex(pattern: str) -> str:
    """SQL `SIMILAR TO` as a Python regex anchored at both ends, for SQLite (PostgreSQL has
    the operator): `%` any text, `_` any character, `\\` escapes; `.`, `^` and `$` are literal."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(re.escape(next(chars, "\\")))
        elif char == "%":
            out.append(".*")
        elif char == "_":
            out.append(".")
        elif char in ".^$":
            out.append(re.escape(char))
        else:
            out.append(char)
    return "^(?:" + "".join(out) + ")$"


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern (backslash escapes, PostgreSQL's default) as an SQLite GLOB, which is
    case-sensitive where SQLite's LIKE is not."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        literal = None
        if char == "\\":
            literal = next(chars, "\\")
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        else:
            literal = char
        if literal is not None:
            out.append(f"[{literal}]" if literal in "*?[" else literal)
    return "".join(out)
