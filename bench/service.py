"""`make bench`, part 2: the service under load, beside a bare FastAPI endpoint in the same run.

`wrk` (32 connections, 2 threads, `bench/post.lua` for the bodies) drives, on 127.0.0.1:
- a bare FastAPI app with one POST route answering 204: the reference, run again just before
  each measured row and compared with that row only (the machine's speed drifts);
- phoneauth in its default set-up (SQLite in a fresh data folder), configured through its
  Management API: the development outbox as SMS connector, and the tenant's budgets raised so
  that none refuses (the limiter still tests and counts every request);
- send-code (`POST /api/verification-codes`), a different valid German mobile number each time;
- more sends until 100,000 codes have been issued, then the server's resident memory;
- verify (`POST /api/verification-codes/verify`) with the right code, which consumes it (the
  sign-in path), and with a wrong code against a waiting one (the guessing path).

Each server is uvicorn in its own process: one worker, no access log, log level warning.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from fastapi import FastAPI, Response

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).with_name("post.lua")
CONNECTIONS = 32
THREADS = 2
DURATION_S = 10
WARMUP_S = 2
CODES_FOR_RSS = 100_000
WRONG_CODE_NUMBERS = 2_000
OUTBOX_SIZE = 1_000  # the development outbox keeps a tenant's newest 1,000 messages
SEND_TARGET = 0.40
VERIFY_TARGET = 0.50
P99_TARGET_MS = 50.0
RSS_TARGET_MB = 150.0
# First numbers of the ranges `post.lua` and `issue_codes` use (+49151 and 8 digits, all valid).
WARMUP_NUMBERS, SEND_NUMBERS, FILL_NUMBERS, VERIFY_NUMBERS = 0, 10**7, 2 * 10**7, 8 * 10**7
BENCH_LIMITS = {
    # Every send is tested and counted in all three budgets; none refuses during the benchmark.
    "ipLimit": 100_000,
    "ipWindowSeconds": 1,
    "countryLimit": 10_000_000,
    "countryWindowSeconds": 1,
    # The recipient budget keeps its default (10 per 10 minutes): each number gets one code.
    "failedVerificationLimit": 10_000,
}
BENCH_CODE_POLICY = {"expirationDuration": 3600, "maxRetryAttempts": 100}


# --- the two apps, built by uvicorn (`--factory`) in the server processes ---------------------


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/bare", status_code=204)
    async def bare() -> Response:
        return Response(status_code=204)

    return app


def phoneauth_app() -> FastAPI:
    from phoneauth.settings import Settings
    from phoneauth.web.app import create_app

    return create_app(Settings(), serving=True)  # as `phoneauth serve` builds it


# --- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    def cpu_s(self) -> float:
        """CPU time (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) / 1024


@contextmanager
def serve(factory: str, env: dict[str, str]) -> Iterator[Server]:
    port = free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", f"bench.service:{factory}"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--no-access-log", "--log-level", "warning"),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/", timeout=1)  # any answer: the server is up
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{factory} did not start") from None
                time.sleep(0.1)
        yield Server(url, process)
    finally:
        process.terminate()
        process.wait(timeout=20)


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    statuses: dict[str, int] = field(default_factory=dict)
    cpu_ms: float = 0.0  # the server's CPU time per request

    def unexpected(self, expected: str) -> int:
        """Socket errors and answers other than `expected` (a status, maybe with an error code)."""
        return self.socket_errors + sum(
            n for key, n in self.statuses.items() if not key.startswith(expected)
        )

    def answers(self) -> str:
        return ", ".join(f"{n:,} × {key}" for key, n in sorted(self.statuses.items()))


def wrk_command(url: str, mode: str, key: str, arg: object, seconds: int) -> list[str]:
    return [
        *("wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"),
        *("--timeout", "10s", "-s", str(LUA), url, "--", mode, key, str(arg), str(THREADS)),
    ]


def parse_wrk(name: str, output: str) -> Run:
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
    server: Server, name: str, path: str, mode: str, key: str, arg: object, seconds: int
) -> Run:
    cpu = server.cpu_s()
    command = wrk_command(server.url + path, mode, key, arg, seconds)
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    run = parse_wrk(name, done.stdout)
    run.cpu_ms = (server.cpu_s() - cpu) / max(run.requests, 1) * 1000
    return run


def wrk_until(
    server: Server, name: str, path: str, mode: str, key: str, arg: int, enough: Callable[[], bool]
) -> Run:
    """wrk until `enough()` (asked twice a second), then stopped as Ctrl-C would."""
    cpu = server.cpu_s()
    command = wrk_command(server.url + path, mode, key, arg, 3600)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    while process.poll() is None and not enough():
        time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    run = parse_wrk(name, output)
    run.cpu_ms = (server.cpu_s() - cpu) / max(run.requests, 1) * 1000
    return run


# --- phoneauth set-up -------------------------------------------------------------------------


def create_admin_key(env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "phoneauth", "admin", "create-key", "--name", "bench"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.split()[-1]


def check_numbers() -> None:
    """The numbers sent to are valid: the first and last of every range."""
    import phonenumbers

    for first in (WARMUP_NUMBERS, SEND_NUMBERS, FILL_NUMBERS, VERIFY_NUMBERS):
        for offset in (1, THREADS * 5_000_000):
            number = phonenumbers.parse(f"+49151{first + offset:08d}")
            assert phonenumbers.is_valid_number(number), number


def set_up(api: httpx.Client) -> None:
    """The outbox connector and the benchmark's limits, through the Management API."""
    connector = {"connectorId": "outbox-sms", "config": {}}
    api.post("/api/connectors", json=connector).raise_for_status()
    settings = {"rateLimits": BENCH_LIMITS, "verificationCodePolicy": BENCH_CODE_POLICY}
    api.patch("/api/tenant/settings", json=settings).raise_for_status()


def codes_issued(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT count(*) FROM verification_codes").fetchone()[0])


async def issue_codes(url: str, key: str, count: int) -> list[tuple[str, str]]:
    """Send `count` codes, 32 requests at a time, reading each 1,000 back from `GET /api/outbox`
    (all it keeps); the (phone, code) pairs."""
    issued: list[tuple[str, str]] = []
    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(url, headers=headers, connector=connector) as session:

        async def send(numbers: Iterator[int]) -> None:
            for number in numbers:
                body = {"phone": f"+49151{number:08d}"}
                async with session.post("/api/verification-codes", json=body) as response:
                    if response.status != 204:
                        raise RuntimeError(f"send-code answered {response.status}")

        first = VERIFY_NUMBERS
        while len(issued) < count:
            batch = min(OUTBOX_SIZE, count - len(issued))
            numbers = iter(range(first, first + batch))
            first += batch
            await asyncio.gather(*(send(numbers) for _ in range(CONNECTIONS)))
            async with session.get("/api/outbox") as response:
                kept = await response.json()
            if len(kept) < batch:
                raise RuntimeError("the outbox did not keep every message")
            issued += [(message["to"], message["code"]) for message in kept[:batch]]
    return issued


def verify_bodies(issued: list[tuple[str, str]], work: Path) -> tuple[Path, Path]:
    """Files of bodies: the right codes, and wrong codes for the last few numbers."""
    right, wrong = issued[:-WRONG_CODE_NUMBERS], issued[-WRONG_CODE_NUMBERS:]

    def body(phone: str, code: str, shift: int) -> str:
        shifted = f"{(int(code) + shift) % 1_000_000:06d}"
        return json.dumps({"phone": phone, "verificationCode": shifted}) + "\n"

    right_file, wrong_file = work / "verify-right.txt", work / "verify-wrong.txt"
    right_file.write_text("".join(body(phone, code, 0) for phone, code in right))
    wrong_file.write_text("".join(body(phone, code, 1) for phone, code in wrong))
    return right_file, wrong_file


# --- the benchmark ----------------------------------------------------------------------------


@dataclass
class Results:
    bare: dict[str, Run]  # the bare endpoint's run just before each measured row, by row name
    send: Run
    verify_right: Run
    verify_wrong: Run
    fill: Run
    codes: int
    rss_start_mb: float
    rss_mb: float
    rss_end_mb: float
    right_codes: int


def bench_bare(server: Server) -> Run:
    """The reference, run again just before each measured row: this machine's speed drifts
    (the bare endpoint gave 1,937 and 3,617 requests/s within the same hour), so a row is only
    compared with a bare run made under the same conditions."""
    return wrk(server, "bare FastAPI endpoint", "/bare", "fixed", "-", 0, DURATION_S)


def combined(runs: list[Run]) -> Run:
    """The bare runs as one table row: mean rate, p50 and CPU; the worst p99."""
    count = len(runs)
    statuses: dict[str, int] = {}
    for run in runs:
        for key, n in run.statuses.items():
            statuses[key] = statuses.get(key, 0) + n
    return Run(
        name=f"bare FastAPI endpoint ({count} runs, one before each row)",
        rps=sum(run.rps for run in runs) / count,
        p50_ms=sum(run.p50_ms for run in runs) / count,
        p99_ms=max(run.p99_ms for run in runs),
        requests=sum(run.requests for run in runs),
        socket_errors=sum(run.socket_errors for run in runs),
        statuses=statuses,
        cpu_ms=sum(run.cpu_ms for run in runs) / count,
    )


def bench_phoneauth(env: dict[str, str], work: Path, bare_server: Server) -> Results:
    database = Path(env["PHONEAUTH_DATA_DIR"]) / "phoneauth.db"
    key = create_admin_key(env)
    with serve("phoneauth_app", env) as server:
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            set_up(api)
        rss_start_mb = server.rss_mb()
        send_path, verify_path = "/api/verification-codes", "/api/verification-codes/verify"
        wrk(server, "warm-up", send_path, "phones", key, WARMUP_NUMBERS, WARMUP_S)
        bare = {"send": bench_bare(bare_server)}
        send = wrk(server, "send-code (outbox)", send_path, "phones", key, SEND_NUMBERS, DURATION_S)

        # Up to 100,000 codes: wrk, then the codes the verify runs need, read from the outbox.
        right_codes = min(50_000, max(5_000, round(3 * send.rps * DURATION_S)))
        verify_codes = right_codes + WRONG_CODE_NUMBERS
        fill = wrk_until(
            server,
            "send-code, up to 100,000 codes",
            send_path,
            "phones",
            key,
            FILL_NUMBERS,
            lambda: codes_issued(database) >= CODES_FOR_RSS - verify_codes,
        )
        issued = asyncio.run(issue_codes(server.url, key, verify_codes))
        codes = codes_issued(database)
        rss_mb = server.rss_mb()

        right_file, wrong_file = verify_bodies(issued, work)
        bare["verify_wrong"] = bench_bare(bare_server)
        verify_wrong = wrk(
            server, "verify, wrong code", verify_path, "file", key, wrong_file, DURATION_S
        )
        bare["verify_right"] = bench_bare(bare_server)
        verify_right = wrk(
            server,
            "verify, right code (consumes it)",
            verify_path,
            "file",
            key,
            right_file,
            DURATION_S,
        )
        rss_end_mb = server.rss_mb()
    return Results(
        bare=bare,
        send=send,
        verify_right=verify_right,
        verify_wrong=verify_wrong,
        fill=fill,
        codes=codes,
        rss_start_mb=rss_start_mb,
        rss_mb=rss_mb,
        rss_end_mb=rss_end_mb,
        right_codes=right_codes,
    )


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(results: Results) -> tuple[str, bool]:
    reference = combined(list(results.bare.values()))
    rows: list[tuple[Run, Run, str, float | None]] = [
        (reference, reference, "204", None),
        (results.send, results.bare["send"], "204", SEND_TARGET),
        (results.verify_right, results.bare["verify_right"], "204", VERIFY_TARGET),
        (
            results.verify_wrong,
            results.bare["verify_wrong"],
            "400 verification_code.code_mismatch",
            VERIFY_TARGET,
        ),
    ]
    lines = [
        "| endpoint | requests/s | bare just before (requests/s) | % of bare | p50 (ms) | p99 (ms)"
        " | server CPU / request (ms) | requests | unexpected answers | target | met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    all_met = True
    for run, bare, expected, share in rows:
        ratio = run.rps / bare.rps
        if share is None:
            target, met = "reference", "–"
        else:
            ok = ratio >= share and run.p99_ms <= P99_TARGET_MS and run.unexpected(expected) == 0
            all_met &= ok
            target, met = f"≥ {share:.0%} of bare, p99 ≤ {P99_TARGET_MS:.0f} ms", _met(ok)
        lines.append(
            f"| {run.name} | {run.rps:,.0f} | {'–' if share is None else f'{bare.rps:,.0f}'}"
            f" | {ratio:.0%} | {run.p50_ms:.1f} | {run.p99_ms:.1f}"
            f" | {run.cpu_ms:.2f} | {run.requests:,} | {run.unexpected(expected):,} | {target}"
            f" | {met} |"
        )
    rss_ok = results.rss_mb <= RSS_TARGET_MB and results.codes >= CODES_FOR_RSS
    all_met &= rss_ok
    lines += [
        "",
        f"Server RSS after {results.codes:,} codes: **{results.rss_mb:.0f} MB** (target ≤ "
        f"{RSS_TARGET_MB:.0f} MB: {_met(rss_ok)}); {results.rss_start_mb:.0f} MB before the "
        f"first code, {results.rss_end_mb:.0f} MB after the verify runs.",
    ]
    return "\n".join(lines), all_met


def describe(results: Results) -> str:
    fill = results.fill
    return "\n".join(
        [
            "What each row measures:",
            "",
            "- **bare FastAPI endpoint**: `POST /bare` → 204, no body read, no dependencies; its "
            "own uvicorn process, started beside phoneauth's and run for "
            f"{DURATION_S} s just before each measured row, which is compared with that run "
            "(the machine's speed drifts between minutes).",
            "- **server CPU / request**: the uvicorn process's user + system time during the run "
            "over its requests (database threads included); one worker serves little more than "
            "1,000 ms divided by it per second.",
            "- **send-code**: `POST /api/verification-codes`, a new valid number each request: "
            "admin key and tenant looked up, number parsed, the three send budgets tested and "
            "counted, the connector looked up, the code stored (delete + insert), the outbox, the "
            f"message-log row. Answers: {results.send.answers()}.",
            "- **verify, right code**: `POST /api/verification-codes/verify` with codes read "
            "back from `GET /api/outbox`, each used once: lock checked, code looked up, attempt "
            "claimed, hash compared, code consumed. Answers: "
            f"{results.verify_right.answers()} (of {results.right_codes:,} codes waiting).",
            "- **verify, wrong code**: the same route, a wrong code for one of "
            f"{WRONG_CODE_NUMBERS:,} numbers with a code waiting, in turn: lock checked, code "
            "looked up, attempt claimed, hash compared, failure counted, 400. Answers: "
            f"{results.verify_wrong.answers()}.",
            "",
            "The limiter is not what is measured: `PATCH /api/tenant/settings` raised the "
            f"tenant's budgets to `{json.dumps(BENCH_LIMITS)}` and its code policy to "
            f"`{json.dumps(BENCH_CODE_POLICY)}`, so that nothing is refused; every budget is "
            "still tested and counted (in process memory: no Redis).",
            "",
            f"The {CODES_FOR_RSS:,} codes: warm-up and send-code runs, then wrk again "
            f"({fill.requests:,} sends, {fill.rps:,.0f}/s, p99 {fill.p99_ms:.0f} ms, "
            f"{fill.cpu_ms:.2f} ms server CPU each, "
            f"{fill.unexpected('204'):,} unexpected answers), then the codes for the verify "
            f"runs, {CONNECTIONS} requests at a time from an aiohttp client, read back from the "
            f"outbox every {OUTBOX_SIZE:,}. RSS: VmRSS of the uvicorn process, from /proc.",
        ]
    )


def run() -> tuple[str, bool]:
    """The whole benchmark: its section of RESULTS.md, and whether every target was met."""
    check_numbers()
    with tempfile.TemporaryDirectory(prefix="phoneauth-bench-") as tmp:
        work = Path(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")},
            "PHONEAUTH_DATA_DIR": str(work / "data"),
            "PHONEAUTH_SECRET_KEY": secrets.token_urlsafe(32),
        }
        with serve("bare_app", env) as bare_server:
            wrk(bare_server, "warm-up", "/bare", "fixed", "-", 0, WARMUP_S)
            results = bench_phoneauth(env, work, bare_server)
    report, ok = table(results)
    machine = (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}"
    )
    section = (
        "## The service under load\n\n"
        f"`wrk` with {CONNECTIONS} connections and {THREADS} threads, {DURATION_S} s per row "
        f"after {WARMUP_S} s of warm-up, on 127.0.0.1 and the same machine as the servers "
        f"({machine}). Targets: send-code ≥ {SEND_TARGET:.0%} and verify ≥ "
        f"{VERIFY_TARGET:.0%} of the bare endpoint's requests/s, p99 ≤ {P99_TARGET_MS:.0f} ms, "
        f"no unexpected answers; server RSS ≤ {RSS_TARGET_MB:.0f} MB after "
        f"{CODES_FOR_RSS:,} codes.\n\n" + report + "\n\n" + describe(results) + "\n"
    )
    return section, ok
