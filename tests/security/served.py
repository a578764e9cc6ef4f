"""`phoneauth serve` as an operator starts it: a subprocess on a free 127.0.0.1 port, on a fresh
SQLite data folder, its output (the access log included) kept in a file the test can read, and
ended as an operator ends it (SIGTERM), which must end it cleanly.

For what only the command decides (uvicorn's options: proxy headers, the access log) the
in-process `deployment` fixture cannot stand in.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tests import local_http
from tests.servers import free_port, stop, stop_cleanly

START_TIMEOUT_S = 60
KEY = re.compile(r"^\s+(pa_\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Served:
    url: str
    key: str  # the first admin key ("" when the data folder was not new)
    process: subprocess.Popen[bytes]
    output_file: Path
    data_dir: Path

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def output(self) -> str:
        """Everything the command printed so far: stdout (the access log) and stderr."""
        return self.output_file.read_text(encoding="utf-8", errors="replace")

    def client(self, **options: Any) -> httpx.Client:
        return local_http.client(base_url=self.url, timeout=30, **options)


@contextmanager
def serve(folder: Path, **settings: str) -> Iterator[Served]:
    """Run `python -m phoneauth serve` with `PHONEAUTH_*` `settings` until the block ends."""
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    data_dir = folder / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")}
    env.pop("FORWARDED_ALLOW_IPS", None)  # uvicorn's own variable: only the settings count
    env.update(PHONEAUTH_DATA_DIR=str(data_dir), PHONEAUTH_LOG_LEVEL="INFO", **settings)
    first_start = not (data_dir / "phoneauth.db").exists()  # prints the first admin key
    output_file = folder / "output.txt"
    with output_file.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [sys.executable, "-m", "phoneauth", "serve", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            umask=0o022,  # the usual umask, which made the database world-readable
        )
    url = f"http://127.0.0.1:{port}"
    try:
        key = _wait_until_serving(url, process, output_file, first_start)
        served = Served(url, key, process, output_file, data_dir)
        yield served
    except BaseException:
        stop(process)
        raise
    # Ended as `kill` ends it, each of these servers checks what tests/test_serve_signals.py
    # checks for Ctrl-C: exit status 0 and no traceback.
    stop_cleanly(process, served.output, signal.SIGTERM)


def _wait_until_serving(
    url: str, process: subprocess.Popen[bytes], output: Path, first_start: bool
) -> str:
    """Until /health answers 200; the first admin key printed on a first start (else "")."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        found = KEY.search(output.read_text(encoding="utf-8", errors="replace"))
        try:
            healthy = local_http.get(f"{url}/health", timeout=30).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy and (found or not first_start):
            return found.group(1) if found else ""
        time.sleep(0.2)
    raise AssertionError(f"phoneauth serve did not start:\n{output.read_text()}")
