"""The servers `make bench` loads: `phoneauth serve` as users start it, and the bare reference.

Both run with the uvicorn options phoneauth ships (`phoneauth.web.serving.server_options`: event
loop and HTTP parser) and log level warning (no access log); the bare endpoint in one worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Response
from pydantic import BaseModel
from tests.servers import child_pids, free_port

from phoneauth.web.serving import server_options

ROOT = Path(__file__).resolve().parent.parent


class PhoneBody(BaseModel):
    phone: str


def bare_app() -> FastAPI:
    """One POST route with a pydantic body, answering 204: FastAPI's floor on this machine."""
    app = FastAPI()

    @app.post("/bare", status_code=204)
    async def bare(body: PhoneBody) -> Response:
        return Response(status_code=204)

    return app


def _stat_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def workers(self) -> list[int]:
        """The processes serving requests: uvicorn's spawned workers, else the process itself."""
        spawned = [
            pid
            for pid in child_pids(self.process.pid)
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        return spawned or [self.process.pid]

    def cpu_s(self) -> float:
        """CPU time (user + system) used so far by the server and its workers."""
        pids = {self.process.pid, *self.workers()}
        return sum(_stat_cpu_s(pid) for pid in pids)

    def worker_rss_mb(self) -> list[float]:
        return [_rss_mb(pid) for pid in self.workers()]


@contextmanager
def start(command: list[str], env: dict[str, str], workers: int = 1) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(server.url + "/", timeout=1)  # any answer: a worker is up
                if len(server.workers()) == workers:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.1)
        if workers > 1:
            time.sleep(3)  # the other workers finish their start-up too
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def serve_bare(env: dict[str, str]) -> AbstractContextManager[Server]:
    return start([sys.executable, "-m", "bench.servers"], env)


def serve_phoneauth(env: dict[str, str], workers: int) -> AbstractContextManager[Server]:
    command = [sys.executable, "-m", "phoneauth", "serve", "--workers", str(workers)]
    return start(command, env, workers)


if __name__ == "__main__":  # the bare endpoint's process: `python -m bench.servers --port N`
    uvicorn.run(
        bare_app(),
        host="127.0.0.1",
        port=int(sys.argv[-1]),
        log_level="warning",
        **server_options(),
    )
