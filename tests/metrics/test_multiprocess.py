"""Several processes, one sum: the workers' private folder, and what stays of a worker that is
gone (its counts, not its gauges)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from phoneauth.metrics import multiprocess

# A worker as `phoneauth serve` starts one: the folder in its environment before the import.
WORKER = """
import sys
from phoneauth.metrics import PrometheusMetrics
metrics = PrometheusMetrics()
metrics.rate_limited("acme", "recipient")
metrics.circuit_changed("row-1", "vonage-sms", sys.argv[1])
print("counted", flush=True)
sys.stdin.read()  # lives until the test closes its input
"""


def test_the_private_folder_is_new_0700_named_for_workers_and_removed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(multiprocess.ENVIRONMENT, "/somewhere/else")
    with multiprocess.private_directory() as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert list(folder.iterdir()) == []
        assert os.environ[multiprocess.ENVIRONMENT] == str(folder)
        (folder / "counter_1.db").write_bytes(b"")
    assert not folder.exists()
    assert os.environ[multiprocess.ENVIRONMENT] == "/somewhere/else"


def start_worker(folder: Path, state: str) -> subprocess.Popen[str]:
    env = {**os.environ, multiprocess.ENVIRONMENT: str(folder)}
    worker = subprocess.Popen(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", WORKER, state],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline() == "counted\n"
    return worker


def end(worker: subprocess.Popen[str]) -> None:
    """The worker dies as a crashed one would: no clean stop marks it gone."""
    assert worker.stdin is not None
    assert worker.stdout is not None
    worker.stdin.close()
    worker.wait(timeout=30)
    worker.stdout.close()


def scrape(folder: Path) -> str:
    return generate_latest(multiprocess.collected(folder)).decode()


def test_counts_of_every_worker_are_summed_and_a_gone_workers_gauge_leaves(tmp_path: Path) -> None:
    refusals = 'phoneauth_rate_limit_refusals_total{budget="recipient",tenant="acme"} 2.0'
    circuit = 'phoneauth_connector_circuit_state{connector="vonage-sms",connector_id="row-1"}'
    first = start_worker(tmp_path, "open")
    second = start_worker(tmp_path, "closed")
    try:
        text = scrape(tmp_path)
        assert refusals in text
        assert f"{circuit} 2.0" in text  # the worst state among the live workers
    finally:
        end(first)
    try:
        # The first worker is gone: its count stays summed, its gauge leaves.
        text = scrape(tmp_path)
        assert refusals in text
        assert f"{circuit} 0.0" in text
    finally:
        end(second)
    assert circuit not in scrape(tmp_path)
    assert refusals in scrape(tmp_path)
