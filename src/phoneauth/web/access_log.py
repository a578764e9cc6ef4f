"""uvicorn's access log without phone numbers or codes.

uvicorn logs each request's target as it came: `GET /api/users?phone=%2B4915112345678`. The
filter keeps every query parameter's name (when it is a plain name) and replaces every value
with `***`: values are where numbers, codes and search terms travel, and no rule telling a
harmless value from a number would be safe (`search=4915`, `page=123456`). In the path, which
holds only ids, a run of six or more digits (a code, or a number someone put there) is masked.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote, unquote

MASK = "***"
_PLAIN_NAME = re.compile(r"[A-Za-z_.\-\[\]]{1,64}")  # no digits, no escapes
_NUMBER_LIKE = re.compile(r"\+?\d(?:[\s().\-]*\d){5,}")  # six digits or more, separators allowed


def mask_target(target: str) -> str:
    """`/api/users?phone=%2B49151...&page=2` -> `/api/users?phone=***&page=***`."""
    path, question_mark, query = target.partition("?")
    masked = _mask_path(path)
    if not question_mark:
        return masked
    return f"{masked}?{_mask_query(query)}"


def _mask_path(path: str) -> str:
    decoded = unquote(path)
    masked = _NUMBER_LIKE.sub(MASK, decoded)
    return path if masked == decoded else quote(masked, safe="/*")


def _mask_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, equals, _value = pair.partition("=")
        shown = name if not name or _PLAIN_NAME.fullmatch(name) else MASK
        pairs.append(f"{shown}={MASK}" if equals else shown)
    return "&".join(pairs)


class AccessLogFilter(logging.Filter):
    """On the `uvicorn.access` logger: masks the request target among the record's arguments
    (the one argument that is a path), whatever handler or format prints it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_target(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True
