"""gzip for answers made once and served many times: whether a browser takes it
(`Accept-Encoding`, RFC 9110 §12.5.3), and the compressed copy."""

from __future__ import annotations

import gzip as gzip_format

_GZIP = frozenset({"gzip", "x-gzip"})  # x-gzip: the old name, to be read as gzip


def _weight(parameters: str) -> float:
    """The `q` of one coding: 1 when absent, 0 (refused) when it is not a number."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0
    return 1.0


def accepts_gzip(accept_encoding: str | None) -> bool:
    """gzip named with a weight above 0, or, when gzip is not named, `*` so; a coding named
    with `q=0` is refused, whatever `*` says."""
    if not accept_encoding:
        return False
    gzip: float | None = None
    anything: float | None = None
    for part in accept_encoding.split(","):
        coding, _, parameters = part.partition(";")
        coding = coding.strip().lower()
        if coding in _GZIP:
            gzip = max(gzip or 0.0, _weight(parameters))
        elif coding == "*":
            anything = _weight(parameters)
    if gzip is not None:
        return gzip > 0
    return anything is not None and anything > 0


def gzipped(content: bytes) -> bytes:
    """The strongest compression, since it is made once; no time in the header, so the same
    content always gives the same bytes (and entity tag)."""
    return gzip_format.compress(content, compresslevel=9, mtime=0)
