"""`phoneauth serve` makes the pages and the decoy password hash ready, freezes the started app
out of the garbage collector and collects the youngest generation less often; test apps keep
Python's defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phoneauth.web.app import YOUNG_COLLECTION

SCRIPT = """
import asyncio, gc, sys
from phoneauth.domain.passwords import decoy_hash
from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.web.pages import country_picker, templates

async def main():
    app = create_app(Settings(), serving=sys.argv[1] == "serving")
    async with app.router.lifespan_context(app):
        compiled = sum(name.startswith("pages/") for name in templates.env.list_templates())
        ready = (
            compiled == len(templates.env.cache)
            and country_picker.cache_info().currsize
            and decoy_hash.cache_info().currsize
        )
        print(gc.get_freeze_count(), gc.get_threshold()[0], int(bool(ready)))

asyncio.run(main())
"""


def collector(tmp_path: Path, mode: str) -> tuple[int, int, bool]:
    """Objects frozen, the youngest generation's threshold, and whether every page template
    is compiled and the country list and the decoy password hash made, once the app has
    started."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, mode],
        env={"PHONEAUTH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    frozen, threshold, ready = done.stdout.strip().splitlines()[-1].split()
    return int(frozen), int(threshold), ready == "1"


def test_a_serving_app_is_frozen_after_start(tmp_path: Path) -> None:
    frozen, threshold, ready = collector(tmp_path, "serving")
    assert frozen > 100_000
    assert threshold == YOUNG_COLLECTION > 700
    assert ready  # the first visitor no longer compiles the pages or hashes the decoy


def test_other_apps_are_not(tmp_path: Path) -> None:
    assert collector(tmp_path, "test") == (0, 700, False)
