"""SQL that only one kind of database understands, made when a database of that kind is used.

Importing SQLAlchemy's PostgreSQL dialect costs `phoneauth serve` about 2 MB of resident memory
(130.8 against 133.0 MB at start), and an SQLite deployment (the default) never runs a statement
of it. So upserts (each dialect's own `INSERT ... ON CONFLICT`) are made on first use for the
kind of database at hand, not at import for both; arrays use SQLAlchemy's generic `ARRAY`, which
the PostgreSQL dialect adapts.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any, Generic, TypeVar

from phoneauth.storage.database import Database

T = TypeVar("T")


def kind_of(database: Database) -> str:
    """The name of the database's SQLAlchemy dialect: `sqlite` or `postgresql`."""
    return "sqlite" if database.is_sqlite else "postgresql"


def insert_of(database: Database) -> Callable[..., Any]:
    """The dialect's own `insert`, which knows `on_conflict_do_update`."""
    return import_module(f"sqlalchemy.dialects.{kind_of(database)}").insert  # type: ignore[no-any-return]


class PerDialect(Generic[T]):
    """One statement per kind of database, made by `make(insert)` the first time it is asked for."""

    def __init__(self, make: Callable[[Callable[..., Any]], T]) -> None:
        self._make = make
        self._made: dict[str, T] = {}

    def of(self, database: Database) -> T:
        kind = kind_of(database)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = self._make(insert_of(database))
        return made
