"""wrk runs (`bench/post.lua` makes the bodies and counts the answers) and their results."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.servers import Server

LUA = Path(__file__).with_name("post.lua")
CONNECTIONS = 32
THREADS = 2


@dataclass
class Run:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    statuses: dict[str, int] = field(default_factory=dict)
    cpu_ms: float = 0.0  # the server's CPU time per request (all its processes)

    def unexpected(self, expected: str) -> int:
        """Socket errors and answers other than `expected` (a status, maybe with an error code)."""
        return self.socket_errors + sum(
            n for key, n in self.statuses.items() if not key.startswith(expected)
        )

    def answers(self) -> str:
        return ", ".join(f"{n:,} × {key}" for key, n in sorted(self.statuses.items()))


def command(url: str, mode: str, key: str, arg: object, seconds: int, extra: str) -> list[str]:
    return [
        *("wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"),
        *("--timeout", "10s", "-s", str(LUA), url, "--", mode, key, str(arg), str(THREADS)),
        extra,
    ]


def parse(name: str, output: str) -> Run:
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return Run(
        name=name,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        socket_errors=data["socket_errors"],
        statuses=data["statuses"],
    )


def wrk(
    server: Server,
    name: str,
    path: str,
    mode: str,
    key: str,
    arg: object,
    seconds: int,
    extra: str = "-",
) -> Run:
    cpu = server.cpu_s()
    done = subprocess.run(
        command(server.url + path, mode, key, arg, seconds, extra),
        capture_output=True,
        text=True,
        check=True,
    )
    run = parse(name, done.stdout)
    run.cpu_ms = (server.cpu_s() - cpu) / max(run.requests, 1) * 1000
    return run


def wrk_until(
    server: Server, name: str, path: str, mode: str, key: str, arg: int, enough: Callable[[], bool]
) -> Run:
    """wrk until `enough()` (asked twice a second), then stopped as Ctrl-C would; at least
    a second (wrk prints nothing when stopped before it has started)."""
    cpu = server.cpu_s()
    process = subprocess.Popen(
        command(server.url + path, mode, key, arg, 3600, "-"), stdout=subprocess.PIPE, text=True
    )
    time.sleep(1)
    while process.poll() is None and not enough():
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    run = parse(name, output)
    run.cpu_ms = (server.cpu_s() - cpu) / max(run.requests, 1) * 1000
    return run


def combined(runs: list[Run], name: str) -> Run:
    """Several runs of the bare endpoint as one row: mean rate, p50 and CPU; the worst p99."""
    count = len(runs)
    statuses: dict[str, int] = {}
    for run in runs:
        for key, n in run.statuses.items():
            statuses[key] = statuses.get(key, 0) + n
    return Run(
        name=name,
        rps=sum(run.rps for run in runs) / count,
        p50_ms=sum(run.p50_ms for run in runs) / count,
        p99_ms=max(run.p99_ms for run in runs),
        requests=sum(run.requests for run in runs),
        socket_errors=sum(run.socket_errors for run in runs),
        statuses=statuses,
        cpu_ms=sum(run.cpu_ms for run in runs) / count,
    )
