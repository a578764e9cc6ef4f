"""Issue 16's measure: bots pumping SMS beside legitimate users, through the code engine as the
server wires it (default settings, outbox connector, SQLite, simulated clock; `bench/pumping.py`,
also `python -m bench pumping`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.pumping import RUNS, simulate


@pytest.mark.parametrize("run", RUNS)
async def test_a_bot_gets_at_most_20_sms_out_and_no_legitimate_send_is_refused(
    run: str, tmp_path: Path
) -> None:
    result = await simulate(run, folder=tmp_path)
    assert result.bot_requests == 500
    assert result.bot_sent <= 20
    assert result.legitimate_sends == 250
    assert result.legitimate_refused == 0
    assert result.legitimate_verified == 250
    expected = {
        "premium prefix": ("phone_number.type_not_allowed", 0),
        "sequential mobile": ("sms.prefix_rate_limited", 10),
        "random mobile": ("sms.country_suspended", 20),
    }[run]
    assert (next(iter(result.bot_refusals)), result.bot_sent) == expected
