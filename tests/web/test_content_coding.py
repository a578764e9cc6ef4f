"""Which Accept-Encoding headers get a gzip-compressed page (RFC 9110 §12.5.3)."""

from __future__ import annotations

import pytest

from phoneauth.web.content_coding import accepts_gzip


@pytest.mark.parametrize(
    "header",
    [
        "gzip",
        "gzip, deflate, br, zstd",  # Chromium's
        "GZIP",
        " br ;q=1.0 , gzip ; q=0.5",
        "x-gzip",
        "*",
        "br, *;q=0.1",
        "gzip;q=0, gzip;q=1",  # named twice: the higher weight counts
    ],
)
def test_taken(header: str) -> None:
    assert accepts_gzip(header)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "identity",
        "deflate, br",
        "gzip;q=0",
        "gzip;q=0.0, *",  # refused by name: `*` does not bring it back
        "*;q=0",
        "gzip;q=nonsense",
        "gzipped",
    ],
)
def test_not_taken(header: str | None) -> None:
    assert not accepts_gzip(header)
