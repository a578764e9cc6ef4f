"""The SMS size rules (3GPP TS 23.038/23.040), in Python and in the console's JavaScript copy,
against the same published cases."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from phoneauth.connectors.segments import GSM7_BASIC, GSM7_EXTENSION, SmsSize, is_gsm7, measure

CASES_FILE = Path(__file__).with_name("segments_cases.json")
CASES: list[dict[str, Any]] = json.loads(CASES_FILE.read_text(encoding="utf-8"))["cases"]
SCRIPT = Path(__file__).parents[2] / "src/phoneauth/web/static/sms_segments.js"


def text_of(case: dict[str, Any]) -> str:
    return "".join(piece * times for piece, times in case["parts"])


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_python_measures_the_published_cases(case: dict[str, Any]) -> None:
    expected = SmsSize(case["encoding"], case["characters"], case["segments"])
    assert measure(text_of(case)) == expected


def test_the_alphabet_tables_have_their_published_sizes() -> None:
    # TS 23.038 6.2.1: 128 positions, 0x1B is the escape; 6.2.1.1: ten characters in the
    # extension table of the default (no national language) table.
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert is_gsm7("€")
    assert not is_gsm7("ê")


def test_javascript_copy_measures_the_same_cases() -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed for the console's JavaScript check"
    program = (
        "const m = require(process.argv[1]);"
        "const cases = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8')).cases;"
        "const out = cases.map(c => m.measure(c.parts.map(([p, n]) => p.repeat(n)).join('')));"
        "process.stdout.write(JSON.stringify(out));"
    )
    ran = subprocess.run(  # noqa: S603 - our own script and cases
        [node, "-e", program, str(SCRIPT), str(CASES_FILE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    found = json.loads(ran.stdout)
    expected = [
        {"encoding": c["encoding"], "characters": c["characters"], "segments": c["segments"]}
        for c in CASES
    ]
    assert found == expected
