"""Real HTTP servers on 127.0.0.1 for tests (any ASGI app under uvicorn, in a background thread),
and the process helpers the tests and `make bench` share for servers they start themselves."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn


@contextmanager
def serve_in_thread(app: Any, port: int = 0) -> Iterator[str]:
    """Serve `app` on `port` (default: a free one) until the block ends; yields the base URL."""
    # No proxy headers, as `phoneauth serve` without PHONEAUTH_TRUSTED_PROXIES: uvicorn's own
    # default would believe X-Forwarded-For from 127.0.0.1, i.e. from every test client.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto", proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    # Generous: a busy machine may take long to start the app, which still fails if it never does.
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def free_port() -> int:
    """A port nobody listens on now (the server that takes it binds a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_pids(pid: int) -> list[int]:
    """The process's children, read from /proc; threads and children that end meanwhile are
    skipped (a thread listed by `task/` may be gone when its `children` file is read)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, up to 30 s for a graceful end (workers, lifespan), then SIGKILL."""
    process.terminate()
    try:
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def stop_cleanly(
    process: subprocess.Popen[Any], output: Callable[[], str], sent: signal.Signals
) -> None:
    """End a `phoneauth serve` as its operator does (`kill`: SIGTERM; Ctrl-C: SIGINT) and require
    the clean end that `make run` reports no error for: exit status 0, no traceback printed."""
    process.send_signal(sent)
    try:
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    printed = output()
    assert code == 0, f"exit status {code} after {sent.name}:\n{printed}"
    assert "Traceback" not in printed, printed
