"""`phoneauth serve` freezes the started app out of the garbage collector and collects the
youngest generation less often; test apps keep Python's defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from phoneauth.web.app import YOUNG_COLLECTION

SCRIPT = """
import asyncio, gc, sys
from phoneauth.settings import Settings
from phoneauth.web.app import create_app

async def main():
    app = create_app(Settings(), serving=sys.argv[1] == "serving")
    async with app.router.lifespan_context(app):
        print(gc.get_freeze_count(), gc.get_threshold()[0])

asyncio.run(main())
"""


def collector(tmp_path: Path, mode: str) -> tuple[int, int]:
    """Objects frozen, and the youngest generation's threshold, once the app has started."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, mode],
        env={"PHONEAUTH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    frozen, threshold = done.stdout.strip().splitlines()[-1].split()
    return int(frozen), int(threshold)


def test_a_serving_app_is_frozen_after_start(tmp_path: Path) -> None:
    frozen, threshold = collector(tmp_path, "serving")
    assert frozen > 100_000
    assert threshold == YOUNG_COLLECTION > 700


def test_other_apps_are_not(tmp_path: Path) -> None:
    assert collector(tmp_path, "test") == (0, 700)
