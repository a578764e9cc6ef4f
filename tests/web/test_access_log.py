"""The access log's masking of request targets, and its place in `phoneauth serve`'s logging."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from phoneauth.web.access_log import AccessLineFormatter, AccessLogFilter, mask_target
from phoneauth.web.serving import log_config


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/users", "/api/users"),
        ("/api/users?phone=%2B4915112345678", "/api/users?phone=***"),
        ("/api/users?page=2&page_size=20", "/api/users?page=***&page_size=***"),
        ("/api/users?search.primaryPhone=4915", "/api/users?search.primaryPhone=***"),
        ("/api/users?dryRun", "/api/users?dryRun"),
        ("/api/users?%2B4915112345678=1", "/api/users?***=***"),
        ("/api/users?4915112345678", "/api/users?***"),
        ("/api/users?a=1&&b=", "/api/users?a=***&&b=***"),
        ("/api/users/%2B4915112345678", "/api/users/***"),
        ("/api/users/0151%201234%205678", "/api/users/***"),
        ("/api/codes/123456", "/api/codes/***"),
        ("/t/acme2024/api/users/abc234def", "/t/acme2024/api/users/abc234def"),
        ("/%E4%B8%AD/12345", "/%E4%B8%AD/12345"),
    ],
)
def test_query_values_and_number_like_path_parts_are_masked(target: str, logged: str) -> None:
    assert mask_target(target) == logged


def test_the_filter_masks_the_target_among_uvicorns_arguments() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/users?phone=%2B4915112345678", "1.1", 200),
        None,
    )
    assert AccessLogFilter().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5000 - "GET /api/users?phone=*** HTTP/1.1" 200'


def test_serve_installs_the_filter_on_the_access_logger_only() -> None:
    config = log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["mask_targets"]
    assert config["filters"]["mask_targets"]["()"] is AccessLogFilter
    assert "filters" not in config["loggers"]["uvicorn.error"]


def _access_record(status: int, target: str = "/api/verification-codes") -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", target, "1.1", status),
        None,
    )


@pytest.mark.parametrize("status", [101, 200, 204, 302, 404, 422, 429, 503, 599])
@pytest.mark.parametrize("use_colors", [False, True])
def test_access_lines_are_uvicorns_own(status: int, use_colors: bool) -> None:
    fmt = log_config()["formatters"]["access"]["fmt"]
    ours = AccessLineFormatter(fmt, use_colors=use_colors)
    uvicorns = AccessFormatter(fmt, use_colors=use_colors)
    line = ours.format(_access_record(status))
    assert line == uvicorns.format(_access_record(status))
    if not use_colors:
        phrase = {200: "OK", 204: "No Content", 599: ""}.get(status)
        if phrase is not None:
            request = '"POST /api/verification-codes HTTP/1.1"'
            assert line == f"INFO:     127.0.0.1:5000 - {request} {status} {phrase}"


@pytest.mark.parametrize("formatter", [AccessLineFormatter, AccessFormatter])
def test_a_record_of_another_shape_is_left_to_uvicorn(formatter: type[AccessFormatter]) -> None:
    # uvicorn only logs its five arguments there; another shape fails as it fails in uvicorn.
    record = logging.LogRecord(
        "uvicorn.access", logging.WARNING, __file__, 1, "odd %s", ("x",), None
    )
    with pytest.raises(ValueError, match="unpack"):
        formatter(log_config()["formatters"]["access"]["fmt"], use_colors=False).format(record)


def test_serve_formats_access_lines_with_it_and_masks_them() -> None:
    config = log_config()
    assert config["formatters"]["access"]["()"] is AccessLineFormatter
    record = _access_record(200, "/api/users?phone=%2B4915112345678")
    assert AccessLogFilter().filter(record)
    line = AccessLineFormatter(config["formatters"]["access"]["fmt"], use_colors=False).format(
        record
    )
    assert line == 'INFO:     127.0.0.1:5000 - "POST /api/users?phone=*** HTTP/1.1" 200 OK'
