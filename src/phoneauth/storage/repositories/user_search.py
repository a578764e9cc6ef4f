"""Logto's user search as SQL on both databases (`domain.user_search` reads the query).

PostgreSQL has every operator Logto uses. SQLite gets a case-sensitive LIKE as GLOB,
`SIMILAR TO` as a regular expression, and `REGEXP` from SQLAlchemy (Python's `re`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.exc import DataError, ProgrammingError
from sqlalchemy.orm import Session

from phoneauth.domain.user_search import (
    FIELDS,
    InvalidSearchError,
    SearchCondition,
    SearchMode,
    UserSearch,
    like_to_glob,
    similar_to_regex,
)
from phoneauth.storage.models import UserRow

_COLUMNS: dict[str, Any] = {
    "id": UserRow.id,
    "primary_email": UserRow.primary_email,
    "phone": UserRow.phone,
    "username": UserRow.username,
    "name": UserRow.name,
}

_DIGITS_ONLY = func.substr(UserRow.phone, 2)
"""A stored phone without its leading `+`."""


def _match(column: Any, mode: SearchMode, value: str, sensitive: bool, sqlite: bool) -> Any:
    if mode is SearchMode.LIKE:
        if not sensitive:
            return column.ilike(value, escape="\\")
        return column.op("GLOB")(like_to_glob(value)) if sqlite else column.like(value, "\\")
    if mode is SearchMode.SIMILAR_TO:  # always case-sensitive (the parser made sure)
        if sqlite:
            return column.regexp_match(similar_to_regex(value))
        return column.op("SIMILAR TO")(value)
    return column.regexp_match(value, flags=None if sensitive else "i")


def _condition(condition: SearchCondition, search: UserSearch, sqlite: bool) -> Any:
    fields = condition.fields or tuple(FIELDS.values())
    sensitive = search.case_sensitive
    matches: list[ColumnElement[bool]] = []
    for name in fields:
        column = _COLUMNS[name]
        if condition.mode is SearchMode.EXACT:
            if sensitive:
                matches.append(column.in_(condition.values))
            else:
                matches.append(func.lower(column).in_([v.lower() for v in condition.values]))
            continue
        value = condition.values[0]
        matches.append(_match(column, condition.mode, value, sensitive, sqlite))
        if name == "phone":
            # Logto stores digits only (`4915112345678`), phoneauth E.164: a pattern written for
            # Logto's form (`49151%`, `^49`, or the whole number) is matched against it too.
            matches.append(_match(_DIGITS_ONLY, condition.mode, value, sensitive, sqlite))
    return or_(false(), *matches)


def _where(statement: Select[Any], tenant_id: str, search: UserSearch, sqlite: bool) -> Any:
    statement = statement.where(UserRow.tenant_id == tenant_id)
    if search.empty:
        return statement
    parts = [_condition(condition, search, sqlite) for condition in search.conditions]
    return statement.where(and_(*parts) if search.joint_and else or_(*parts))


def run_search(
    session: Session, tenant_id: str, search: UserSearch, *, offset: int, limit: int
) -> tuple[list[Any], int]:
    """One page of matching rows, newest first, and how many match in all."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    try:
        total = session.scalar(
            _where(select(func.count()).select_from(UserRow), tenant_id, search, sqlite)
        )
        page = _where(select(UserRow), tenant_id, search, sqlite)
        page = page.order_by(UserRow.created_at.desc(), UserRow.id).offset(offset).limit(limit)
        rows = list(session.scalars(page))
    except (DataError, ProgrammingError) as error:
        # A pattern Python's `re` took but PostgreSQL's regex engine refuses.
        if "regular expression" not in str(error.orig):
            raise
        raise InvalidSearchError("the pattern is no valid regular expression.") from None
    return rows, int(total or 0)
