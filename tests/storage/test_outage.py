"""The outage log: one line when the database goes away, one when it is back."""

from __future__ import annotations

import logging
import time

import pytest

from phoneauth.storage.outage import OutageLog


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "phoneauth.database"]


def test_an_outage_is_one_line_down_and_one_line_back(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="phoneauth.database")
    outages = OutageLog()
    outages.succeeded(time.monotonic())
    for _ in range(3):
        outages.failed(ConnectionRefusedError("refused"))
    assert outages.is_down
    outages.succeeded(time.monotonic())
    outages.succeeded(time.monotonic())
    assert not outages.is_down
    logged = lines(caplog)
    assert len(logged) == 2
    assert logged[0].startswith("database unavailable (ConnectionRefusedError)")
    assert logged[1].startswith("database is back after")
    assert "(3 requests answered 503 meanwhile)" in logged[1]
    assert all(r.exc_info is None for r in caplog.records)


def test_a_unit_begun_before_the_outage_does_not_end_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="phoneauth.database")
    outages = OutageLog()
    under_way = time.monotonic()  # a unit that began as the server stopped, and then committed
    outages.failed(ConnectionResetError("reset"))  # a concurrent one failed first
    outages.succeeded(under_way)
    assert outages.is_down
    outages.failed(ConnectionRefusedError("refused"))
    assert len(lines(caplog)) == 1  # still the one outage
    outages.succeeded(time.monotonic())
    assert not outages.is_down
    assert len(lines(caplog)) == 2
