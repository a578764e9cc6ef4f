"""Text that neither database can take, refused before any statement is sent, the same way on
both.

PostgreSQL refuses NUL in text (`invalid byte sequence for encoding "UTF8": 0x00`) and neither
driver encodes a lone surrogate. A NUL arrives easily (`/api/users/%00`, `?factoryId=a%00b`, a
form field): on PostgreSQL every such request was a 500, while SQLite stored or looked the text
up, and a tenant exported from an SQLite file could not be imported into PostgreSQL. Checked
here, at the one place every statement passes, rather than at each of the many inputs that reach
a statement: the request is answered `400 guard.invalid_input` (`UnstorableTextError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, event

from phoneauth.errors import UnstorableTextError

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def is_storable(text: str) -> bool:
    # `isascii` first: nearly every value (ids, numbers, codes) is ASCII, and it costs less.
    return "\x00" not in text and (text.isascii() or _SURROGATE.search(text) is None)


def refuse_unstorable(values: Iterable[Any]) -> None:
    """Raises `UnstorableTextError` if a text among `values` cannot be stored."""
    for value in values:
        if type(value) is str and not is_storable(value):
            raise UnstorableTextError()
        if type(value) is list:  # an array parameter (PostgreSQL), e.g. keys read together
            refuse_unstorable(value)


def json_text(value: Any) -> str:
    """JSON columns' serializer (every engine's `json_serializer`), `json.dumps` as SQLAlchemy's
    own. A lone surrogate in a JSON value is written as an escape that both databases take, but
    reading it back made every answer holding it fail to encode (`GET /api/sign-in-exp` was a
    500 for good after one `PATCH` with `"\\ud800"` in `customContent`): refused here instead."""
    text = json.dumps(value)
    if "\\ud" in text:  # a surrogate pair (emoji and the like), or a lone surrogate
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise UnstorableTextError() from None
    return text


def _parameters(parameters: Any, many: bool) -> Iterable[Any]:
    rows: Sequence[Any] = parameters if many else (parameters,)
    for row in rows:
        if isinstance(row, Mapping):
            yield from row.values()
        elif isinstance(row, Sequence) and not isinstance(row, str):
            yield from row


def _before_cursor_execute(
    _connection: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    refuse_unstorable(_parameters(parameters, executemany))


def guard_engine(engine: Engine) -> None:
    """Every statement SQLAlchemy sends on `engine` is checked (`Prepared` statements, sent
    straight to the driver, check their arguments themselves)."""
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)
