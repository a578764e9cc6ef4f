"""`phoneauth serve --workers N`: real worker processes on 127.0.0.1, on SQLite and PostgreSQL.

The server runs as users start it (`python -m phoneauth serve`, a subprocess). Each request goes
over a new connection, and the test finds which worker accepted it from /proc (the socket's
inode among the worker's open files), so it can require that both workers served and that a
connector change made through one worker is used by the very next send on the other.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests import local_http
from tests.conftest import POSTGRES_URL
from tests.security.test_console import TOKEN, create_admin
from tests.servers import child_pids, free_port, serve_in_thread, stop, stop_cleanly
from typer.testing import CliRunner

from phoneauth.cli import app

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60
KEY = re.compile(r"^\s+(pa_\S+)$", re.MULTILINE)
BENCH_LIMITS = {"ipLimit": 10_000, "ipWindowSeconds": 1}
UNJUDGED = {"prefixLimit": 0, "conversionThreshold": 0}
"""Sequential numbers never verified are what the pumping defence stops: not judged here."""
METRICS_TOKEN = "serve-workers-metrics-token"


def _worker_pids(parent: int) -> list[int]:
    """uvicorn's workers: the parent's spawned children (not multiprocessing's resource tracker)."""
    workers = []
    for child in child_pids(parent):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            workers.append(child)
    return workers


def _owner(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """The process holding the server end of the connection from `client_port`, if any."""
    wanted = (f"{server_port:04X}", f"{client_port:04X}")
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if (local, remote) == wanted:
            inode = fields[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == target:
                    return pid
            except FileNotFoundError:
                continue
    return None


@dataclass
class Answer:
    status: int
    body: bytes
    worker: int | None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    port: int
    process: subprocess.Popen[str]
    workers: list[int]
    key: str
    output: Path  # what the command printed: stdout and stderr

    def request(
        self, method: str, path: str, body: Any = None, bearer: str | None = None
    ) -> Answer:
        """One request over a new connection (with the admin key unless `bearer` is another
        token); which worker answered it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.connect()
            assert connection.sock is not None
            client_port = connection.sock.getsockname()[1]
            token = self.key if bearer is None else bearer
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            payload = None if body is None else json.dumps(body)
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
            worker = _owner(self.port, client_port, self.workers)  # still open: keep-alive
            return Answer(response.status, data, worker)
        finally:
            connection.close()


def _environment(folder: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")}
    env.update(
        PHONEAUTH_DATA_DIR=str(folder / "data"),
        PHONEAUTH_SECRET_KEY="serve-workers-test",
        PHONEAUTH_LOG_LEVEL="WARNING",
        PHONEAUTH_CONNECTOR_ALLOW_PRIVATE_HOSTS="true",  # the fake gateway listens on 127.0.0.1
        PHONEAUTH_METRICS_TOKEN=METRICS_TOKEN,
        **settings,
    )
    return env


@contextmanager
def serve_workers(
    env: dict[str, str], folder: Path, workers: int = 2, stop_with: signal.Signals = signal.SIGTERM
) -> Iterator[Served]:
    """The server until the block ends, then `stop_with` (SIGTERM as `kill` sends, or SIGINT as
    Ctrl-C does), which must end the parent and its workers cleanly: exit status 0, no traceback."""
    port = free_port()
    output = folder / "stdout.txt"
    stdout = output.open("w+")
    command = [sys.executable, "-m", "phoneauth", "serve", "--workers", str(workers)]
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [*command, "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=stdout,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        pids: list[int] = []
        key = None
        while time.monotonic() < deadline and process.poll() is None:
            pids = _worker_pids(process.pid)
            found = KEY.search(output.read_text())
            key = found.group(1) if found else None
            if len(pids) == workers and key and _all_serve(port, pids):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(
                f"the server did not start with {workers} workers:\n{output.read_text()}"
            )
        yield Served(port, process, pids, key, output)
    except BaseException:
        stop(process)
        raise
    finally:
        stdout.close()
    stop_cleanly(process, output.read_text, stop_with)


def _all_serve(port: int, pids: list[int]) -> bool:
    """Every worker answered a health check (new connections until each was seen, bounded)."""
    seen: set[int] = set()
    for _ in range(40):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.connect()
            assert connection.sock is not None
            client_port = connection.sock.getsockname()[1]
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                return False
            owner = _owner(port, client_port, pids)
            if owner is not None:
                seen.add(owner)
        except OSError:
            return False
        finally:
            connection.close()
        if seen == set(pids):
            return True
    return False


# --- a fake SMS gateway for the http-sms connector ---------------------------------------------


class Gateway:
    """Records every message the http-sms connector sends it, and answers with an id."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/{path:path}")(self.receive)

    async def receive(self, request: Request) -> JSONResponse:
        self.received.append(await request.json())
        return JSONResponse({"id": "gw-1"})


# --- the servers under test ---------------------------------------------------------------------


@contextmanager
def postgresql_environment(folder: Path) -> Iterator[dict[str, str]]:
    """A fresh schema, migrated with `phoneauth migrate` as the README asks."""
    schema = "w_" + uuid.uuid4().hex[:16]

    async def run(statement: str) -> None:
        engine = create_async_engine(POSTGRES_URL)
        try:
            async with engine.begin() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    env = _environment(
        folder, PHONEAUTH_DATABASE_URL=POSTGRES_URL, PHONEAUTH_DATABASE_SCHEMA=schema
    )
    try:
        migrated = subprocess.run(
            [sys.executable, "-m", "phoneauth", "migrate"],
            env=env,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrated.returncode == 0, migrated.stderr
        yield env
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


# One server per database for every test of the module (starting one takes three processes and
# seconds of CPU), each ended by one of the two signals operators send: with workers, both are
# checked to end it cleanly (tests/test_serve_signals.py checks one worker).
SERVERS = {"sqlite": signal.SIGTERM, "postgresql": signal.SIGINT}


@pytest.fixture(scope="module", params=list(SERVERS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp(f"serve-workers-{request.param}")
    with ExitStack() as stack:
        if request.param == "postgresql":
            env = stack.enter_context(postgresql_environment(folder))
        else:
            env = _environment(folder)
        yield stack.enter_context(serve_workers(env, folder, stop_with=SERVERS[request.param]))


def _phones() -> Iterator[str]:
    for n in range(10**6):
        yield f"+49151{5_000_000 + n:08d}"


def _send(server: Served, phone: str) -> Answer:
    answer = server.request("POST", "/api/verification-codes", {"phone": phone})
    assert answer.status == 204, answer.body
    return answer


@dataclass(frozen=True)
class Sent:
    phone: str
    worker: int | None


def _send_together(server: Served, phones: Iterator[str], count: int = 8) -> list[Sent]:
    """`count` sends at once, each on its own connection: while one worker is busy with a
    request, the other accepts the next. One at a time, a loaded machine may wake the same
    worker for every connection."""
    batch = [next(phones) for _ in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(lambda phone: _send(server, phone), batch))
    return [Sent(phone, answer.worker) for phone, answer in zip(batch, answers, strict=True)]


def _factories(server: Served) -> list[str]:
    """The connector of the last 100 logged sends, newest first (the log is in the shared
    database)."""
    answer = server.request("GET", "/api/message-logs?page_size=100")
    assert answer.status == 200, answer.body
    return [entry["factoryId"] for entry in answer.json()]


def test_two_workers_serve_and_a_connector_change_reaches_every_worker(served: Served) -> None:
    assert len(served.workers) == 2
    limits = {"rateLimits": BENCH_LIMITS, "smsProtection": UNJUDGED}
    assert served.request("PATCH", "/api/tenant/settings", limits).status == 200
    connector = {"connectorId": "outbox-sms", "config": {}}
    assert served.request("POST", "/api/connectors", connector).status == 200
    phones = _phones()
    earlier = _factories(served)  # what the file's other tests sent, if they ran first

    # The outbox serves sends on both workers (each has read, and may cache, the connector).
    before: dict[int | None, int] = {}
    for _ in range(20):
        for answer in _send_together(served, phones):
            before[answer.worker] = before.get(answer.worker, 0) + 1
        if all(before.get(pid) for pid in served.workers):
            break
    assert set(before) == set(served.workers), before
    assert _factories(served) == (["outbox-sms"] * sum(before.values()) + earlier)[:100]

    gateway = Gateway()
    with serve_in_thread(gateway.app) as url:
        change = {"connectorId": "http-sms", "config": {"endpoint": url + "/send"}}
        changed = served.request("POST", "/api/connectors", change)
        assert changed.status == 200, changed.body
        assert changed.worker in served.workers
        other = next(pid for pid in served.workers if pid != changed.worker)

        # At least 20 sends, on new connections until the other worker has served some.
        sent: list[tuple[str, int | None]] = []
        while len(sent) < 400 and (len(sent) < 20 or other not in {w for _, w in sent}):
            sent += [(answer.phone, answer.worker) for answer in _send_together(served, phones)]
    on_other = [phone for phone, worker in sent if worker == other]
    assert on_other, "the worker that did not make the change served no send"
    assert sorted(message["to"] for message in gateway.received) == sorted(
        phone.removeprefix("+") for phone, _ in sent
    )
    logged = ["http-sms"] * len(sent) + ["outbox-sms"] * sum(before.values()) + earlier
    assert _factories(served) == logged[:100]


def test_several_workers_print_one_setup_token_and_any_worker_takes_it(served: Served) -> None:
    """The console's setup token lives in the database, not in one process."""
    [token] = TOKEN.findall(served.output.read_text())  # once, by the start before the workers
    with local_http.client(base_url=f"http://127.0.0.1:{served.port}", timeout=30) as client:
        assert create_admin(client, "setup_" + "B" * 32).status_code == 403
        created = create_admin(client, token)  # at a worker that did not make it
        assert created.status_code == 303


def _sent_codes(server: Served) -> tuple[float, int | None]:
    """Codes sent, as a scrape counts them; the worker that answered it."""
    answer = server.request("GET", "/metrics", bearer=METRICS_TOKEN)
    assert answer.status == 200, answer.body
    sent = 'phoneauth_messages_total{channel="sms",connector="outbox-sms",country="DE",'
    total = sum(
        float(line.rsplit(" ", 1)[1])
        for line in answer.body.decode().splitlines()
        if line.startswith(sent) and 'outcome="sent"' in line
    )
    return total, answer.worker


def test_metrics_of_every_worker_are_summed_in_a_scrape_at_any_of_them(served: Served) -> None:
    limits = {"rateLimits": BENCH_LIMITS, "smsProtection": UNJUDGED}
    assert served.request("PATCH", "/api/tenant/settings", limits).status == 200
    connector = {"connectorId": "outbox-sms", "config": {}}
    assert served.request("POST", "/api/connectors", connector).status == 200
    phones = (f"+49151{7_000_000 + n:08d}" for n in range(10**6))
    before, _ = _sent_codes(served)
    by_worker: dict[int | None, int] = {}
    for _ in range(20):  # new connections until both workers have sent some
        for answer in _send_together(served, phones):
            by_worker[answer.worker] = by_worker.get(answer.worker, 0) + 1
        if all(by_worker.get(pid) for pid in served.workers):
            break
    assert set(by_worker) == set(served.workers), by_worker
    sent = sum(by_worker.values())
    # A scrape at either worker shows the total of both.
    scraped: dict[int | None, float] = {}
    for _ in range(20):  # several at once, as the sends: one at a time may wake one worker
        with ThreadPoolExecutor(max_workers=8) as pool:
            for total, worker in pool.map(lambda _: _sent_codes(served), range(8)):
                scraped[worker] = total
        if set(scraped) >= set(served.workers):
            break
    assert scraped == dict.fromkeys(served.workers, before + sent), (scraped, by_worker)
    folder = Path(_environ(served.workers[0])["PROMETHEUS_MULTIPROC_DIR"])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert _environ(served.workers[1])["PROMETHEUS_MULTIPROC_DIR"] == str(folder)


def _environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode().partition("=")[::2] for pair in pairs if b"=" in pair)


# --- the command line, without a server ---------------------------------------------------------


def test_zero_workers_is_refused_with_exit_status_2() -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "0 workers cannot serve anything" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("url", "expected"),
    [(None, 1), (POSTGRES_URL, os.cpu_count() or 1)],
    ids=["sqlite", "postgresql"],
)
def test_default_workers_one_on_sqlite_one_per_cpu_on_postgresql(
    url: str | None, expected: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import phoneauth.web.app as web_app
    from phoneauth.web import serving

    seen: dict[str, Any] = {}

    async def no_first_start(settings: Any) -> None:
        seen["first_start"] = settings

    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    if url:
        monkeypatch.setenv("PHONEAUTH_DATABASE_URL", url)
    monkeypatch.setattr(serving, "first_start", no_first_start)
    monkeypatch.setattr(web_app, "create_app", lambda settings, **kw: object())
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # the workers' settings stay here
    result = CliRunner().invoke(app, ["serve", "--port", "3912"])
    assert result.exit_code == 0, result.output
    assert seen.get("workers", 1) == expected
    assert seen["port"] == 3912
    assert seen["loop"] == "uvloop"
    assert seen["http"] == "httptools"
    if expected > 1:
        assert seen["app"] == serving.FACTORY
        assert seen["factory"] is True
        assert os.environ["PHONEAUTH_PORT"] == "3912"  # the workers' public URL follows --port
