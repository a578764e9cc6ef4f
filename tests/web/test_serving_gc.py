"""`phoneauth serve` freezes the started app out of the garbage collector; test apps do not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, gc, sys
from phoneauth.settings import Settings
from phoneauth.web.app import create_app

async def main():
    app = create_app(Settings(), serving=sys.argv[1] == "serving")
    async with app.router.lifespan_context(app):
        print(gc.get_freeze_count())

asyncio.run(main())
"""


def frozen_objects(tmp_path: Path, mode: str) -> int:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, mode],
        env={"PHONEAUTH_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_a_serving_app_is_frozen_after_start(tmp_path: Path) -> None:
    assert frozen_objects(tmp_path, "serving") > 100_000


def test_other_apps_are_not(tmp_path: Path) -> None:
    assert frozen_objects(tmp_path, "test") == 0
