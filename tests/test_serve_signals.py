"""Ctrl-C and `kill` end `phoneauth serve` cleanly: exit code 0, so `make run` reports no error.

The server runs as users start it (`python -m phoneauth serve`, a subprocess); the test waits
until it answers /health, sends the signal, and reads the exit code.

Each server costs seconds of CPU (three processes with workers), so the other cases ride on
servers other tests start anyway, ended through `tests.servers.stop_cleanly` with the same two
checks: `kill` (SIGTERM) with one worker after every server of `tests/security/served.py`, and
SIGTERM and SIGINT with two workers after the two servers of `tests/test_serve_workers.py`.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.servers import free_port

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@pytest.mark.parametrize("sent", [signal.SIGINT], ids=["SIGINT"])
@pytest.mark.parametrize("workers", [1])
def test_serve_exits_0_on_a_signal(tmp_path: Path, sent: signal.Signals, workers: int) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")}
    env["PHONEAUTH_DATA_DIR"] = str(tmp_path / "data")
    log = (tmp_path / "output.txt").open("w")
    command = [sys.executable, "-m", "phoneauth", "serve", "--port", str(port)]
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [*command, "--workers", str(workers)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(port):
            assert process.poll() is None, (tmp_path / "output.txt").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        process.send_signal(sent)
        code = process.wait(timeout=STOP_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    output = (tmp_path / "output.txt").read_text()
    assert code == 0, output
    assert "Traceback" not in output
