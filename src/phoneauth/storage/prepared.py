"""Statements built once at import, compiled once per database, run straight on the driver.

SQLAlchemy caches compiled statements, but each execution still builds an execution context,
re-processes every parameter through the compiled form and wraps the cursor in a result: about
50 µs a statement on SQLite against 15 µs for the statement itself (measured on the statements
every sign-in runs). A `Prepared` statement pays that once: the Core statement is compiled with
SQLAlchemy's public compiler API (`compile`, `positiontup`, `binds`) into the SQL text, the order
of its parameters and each parameter's and column's type processor for that dialect; a run then
converts the values, calls the driver's cursor and reads the rows back through the same type
processors SQLAlchemy itself would use, so values round-trip exactly as through `execute`.

Only what compiles to one fixed text qualifies: no expanding (IN) or post-compile parameters,
no Python-side column defaults (the caller passes every value). A statement that does not is
refused when it is first compiled, so a test of its store finds it.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ClauseElement, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, Update, UpdateBase
from sqlalchemy.sql.selectable import SelectBase

from phoneauth.errors import UnstorableTextError
from phoneauth.storage.text_guard import is_storable, refuse_unstorable

Processor = Callable[[Any], Any] | None


class NotPreparableError(ValueError):
    """The statement does not compile to one fixed text (see the module docstring)."""


class Form:
    """One statement compiled for one dialect and one set of parameter names."""

    __slots__ = ("defaults", "names", "processors", "readers", "row", "sql")

    def __init__(self, statement: Executable, dialect: Dialect, keys: frozenset[str]) -> None:
        # INSERT and UPDATE render a value for each parameter named after a column, as
        # `Connection.execute` renders them for the parameters it is given.
        column_keys = sorted(keys) if isinstance(statement, Insert | Update) else None
        if not isinstance(statement, ClauseElement):
            raise NotPreparableError("not a SQL statement")
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        if not isinstance(compiled, SQLCompiler):
            raise NotPreparableError("not a SQL statement")
        if (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.post_compile_params
            or compiled.escaped_bind_names
            or compiled.positiontup is None
        ):
            raise NotPreparableError(
                "a prepared statement takes every value from its caller, in one fixed text"
            )
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup)
        binds = [compiled.binds[name] for name in self.names]
        if any(bind.callable is not None for bind in binds):
            raise NotPreparableError("a value computed at each execution cannot be prepared")
        self.processors: tuple[Processor, ...] = tuple(
            bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds
        )
        # Values written into the statement itself (`LIMIT 1`, `try_count + 1`).
        self.defaults = {
            name: bind.effective_value
            for name, bind in zip(self.names, binds, strict=True)
            if not bind.required
        }
        columns = _result_columns(statement)
        self.row: type[tuple[Any, ...]] | None = None
        self.readers: tuple[Processor, ...] = ()
        if columns:
            names = [name for name, _type in columns]
            self.row = namedtuple("Row", names, rename=True)  # type: ignore[misc]
            self.readers = tuple(
                kind.dialect_impl(dialect).result_processor(dialect, None)
                for _name, kind in columns
            )

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The parameters in the driver's order, each as its type sends it."""
        values = []
        for name, process in zip(self.names, self.processors, strict=True):
            value = parameters[name] if name in parameters else self.defaults[name]
            # As `text_guard` checks what SQLAlchemy sends; the cheap tests first.
            if (
                type(value) is str
                and ("\x00" in value or not value.isascii())
                and not is_storable(value)
            ):
                raise UnstorableTextError()
            if type(value) is list:  # the arrays of a statement for many rows
                refuse_unstorable(value)
            values.append(value if process is None else process(value))
        return values

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's rows as named rows of the column types' values."""
        if self.row is None:
            return []
        make, readers = self.row, self.readers
        return [
            make(*(v if r is None else r(v) for v, r in zip(row, readers, strict=True)))
            for row in raw
        ]


def _result_columns(statement: Executable) -> list[tuple[str, Any]]:
    if isinstance(statement, SelectBase):  # a select, or text with its columns stated
        columns = list(statement.selected_columns)
    elif isinstance(statement, UpdateBase):
        columns = list(statement.exported_columns)
    else:
        return []
    return [(column.key or "", column.type) for column in columns]


class Prepared:
    """A Core statement to run through `Statement` units on the driver (see the docstring)."""

    __slots__ = ("_forms", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, frozenset[str]], Form] = {}

    def form(self, dialect: Dialect, parameters: Mapping[str, Any]) -> Form:
        keys = frozenset(parameters)
        found = self._forms.get((dialect.name, keys))
        if found is None:
            found = self._forms[dialect.name, keys] = Form(self.statement, dialect, keys)
        return found


class DriverResult:
    """What `Statement` result readers use of a result, from the driver's answer: the same
    methods as SQLAlchemy's `CursorResult` (`first`, `scalar_one`, iteration, `rowcount`)."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


async def run_on_asyncpg(form: Form, driver: Any, parameters: Mapping[str, Any]) -> DriverResult:
    """`form` on an asyncpg connection, outside any transaction (so committed at once).

    asyncpg's own statement cache prepares it once per connection. Its errors come back as
    SQLAlchemy's, as from `execute` (callers catch `IntegrityError`), except those of a broken
    connection, which the caller recognises and reports as an outage.
    """
    arguments = form.arguments(parameters)
    with _as_sqlalchemy_errors(form, parameters):
        if form.row is not None:
            records = await driver.fetch(form.sql, *arguments)
            return DriverResult(form.rows(records), len(records))
        status: str = await driver.execute(form.sql, *arguments)
    # "UPDATE 3", "DELETE 0", "INSERT 0 1": the last word counts the rows.
    count = status.rpartition(" ")[2]
    return DriverResult([], int(count) if count.isdigit() else 0)


async def run_many_on_asyncpg(
    form: Form, driver: Any, rows: Sequence[Mapping[str, Any]]
) -> DriverResult:
    """`form` once per row in one round trip (asyncpg's `executemany`: all rows or none),
    outside any transaction. Errors as `run_on_asyncpg`'s."""
    arguments = [form.arguments(row) for row in rows]
    with _as_sqlalchemy_errors(form, rows[0]):
        await driver.executemany(form.sql, arguments)
    return DriverResult([], len(rows))


@contextmanager
def _as_sqlalchemy_errors(form: Form, parameters: Mapping[str, Any]) -> Iterator[None]:
    import asyncpg  # type: ignore[import-untyped]  # the PostgreSQL driver, only used here

    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as error:
        raise IntegrityError(form.sql, dict(parameters), error, hide_parameters=True) from error
    except asyncpg.PostgresError as error:
        if str(getattr(error, "sqlstate", "")).startswith(("08", "57P")):
            raise  # the server is going away: an outage, not a bad statement
        raise DBAPIError(form.sql, dict(parameters), error, hide_parameters=True) from error
