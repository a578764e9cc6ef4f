"""`make bench`, part 2: the service under load as users run it, beside a bare FastAPI endpoint.

Each database gets a fresh phoneauth started by `phoneauth serve` itself: SQLite in a new data
folder (one process, the default there) and PostgreSQL in a new schema (`--workers 2`, one per
core here). It is configured through its Management API: the development outbox as SMS connector,
and the tenant's budgets raised so that none refuses (the limiter still tests and counts every
request). Rows, each compared with the bare endpoint's run made just before it:

- Management send-code and verify (right code, wrong code): wrk, 32 connections;
- Experience send-code: wrk, each request with a fresh interaction's cookie (the interactions
  are started beforehand by `PUT /api/experience`, so only the send-code request is timed);
- the sign-in page (`GET /sign-in`, the HTML every sign-in through the pages starts with): wrk;
- whole sign-ins by code: an aiohttp client with 32 concurrent users (`bench/flows.py`);
- the server's resident memory after 100,000 codes.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import uvicorn
import uvloop

from bench import flows
from bench.servers import ROOT, Server, serve_bare, serve_phoneauth
from bench.wrk import CONNECTIONS, THREADS, Run, wrk, wrk_until
from phoneauth.web.serving import server_options

DURATION_S = 10
WARMUP_S = 2
CODES_FOR_RSS = 100_000
WRONG_CODE_NUMBERS = 2_000
SIGN_IN_USERS = 2 * flows.LANES  # two per concurrent user, signed in in turn
COOKIES_S = 40
FILL_LIMIT_S = 120  # a slow server stops short of 100,000 codes (and misses the target)
SQLITE_SHARE, POSTGRES_SHARE = 0.25, 0.20
P99_TARGET_MS = 100.0
SIGN_IN_TARGET = 150.0  # whole sign-ins per second, SQLite
RSS_TARGET_MB = 150.0
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
POSTGRES_WORKERS = 2
# First numbers of the ranges (+49151 and 8 digits, all valid); wrk threads take 5,000,000 each.
WARMUP, SEND, FILL, EXPERIENCE, VERIFY, USERS = 0, 10**7, 2 * 10**7, 3 * 10**7, 8 * 10**7, 9 * 10**7
BENCH_LIMITS = {
    # Every send is tested and counted in all budgets; none refuses during the benchmark.
    "ipLimit": 100_000,
    "ipWindowSeconds": 1,
    "countryLimit": 10_000_000,
    "countryWindowSeconds": 1,
    "recipientLimit": 10_000,  # the sign-in users get a code on each sign-in
    "failedVerificationLimit": 10_000,
}
BENCH_CODE_POLICY = {"expirationDuration": 3600, "maxRetryAttempts": 100}
BENCH_PROTECTION = {
    # Sequential numbers that are never verified are what the pumping defence stops: its checks
    # still run and count, but no prefix budget fills and the conversion is never judged.
    "prefixLimit": 1_000_000,
    "prefixWindowSeconds": 60,
    "conversionMinSends": 1_000_000,
    "conversionWindowSeconds": 60,
}
SEND_PATH, VERIFY_PATH = "/api/verification-codes", "/api/verification-codes/verify"


# --- databases ---------------------------------------------------------------------------------


@dataclass
class Database:
    label: str
    env: dict[str, str]
    workers: int
    share: float  # the target: this share of the bare endpoint's requests/s
    count_codes: Callable[[], int]
    # After a bulk load (thousands of interactions or codes in a minute): what autovacuum, on by
    # default in PostgreSQL, would do. This machine's PostgreSQL runs with autovacuum off, and
    # statistics from an empty table made the planner scan 100,000 codes per verify.
    after_bulk_load: Callable[[], None] = lambda: None


def _admin_sql(statement: str) -> list[tuple[object, ...]]:
    import asyncpg  # only the PostgreSQL run needs it

    async def run() -> list[tuple[object, ...]]:
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
        try:
            return [tuple(row) for row in await connection.fetch(statement)]
        finally:
            await connection.close()

    return asyncio.run(run())


@contextmanager
def sqlite_database(env: dict[str, str], work: Path) -> Iterator[Database]:
    data = work / "sqlite"
    file = data / "phoneauth.db"

    def count() -> int:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as connection:
            return int(connection.execute("SELECT count(*) FROM verification_codes").fetchone()[0])

    yield Database(
        "SQLite, 1 process", {**env, "PHONEAUTH_DATA_DIR": str(data)}, 1, SQLITE_SHARE, count
    )


@contextmanager
def postgres_database(env: dict[str, str], work: Path) -> Iterator[Database]:
    schema = "bench_" + uuid.uuid4().hex[:12]
    _admin_sql(f'CREATE SCHEMA "{schema}"')
    env = {
        **env,
        "PHONEAUTH_DATA_DIR": str(work / "postgresql"),
        "PHONEAUTH_DATABASE_URL": POSTGRES_URL,
        "PHONEAUTH_DATABASE_SCHEMA": schema,
    }
    try:
        subprocess.run(
            [sys.executable, "-m", "phoneauth", "migrate"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )

        def count() -> int:
            rows = _admin_sql(f'SELECT count(*) FROM "{schema}".verification_codes')  # noqa: S608
            return int(rows[0][0])  # type: ignore[call-overload]

        def analyze() -> None:
            for table in ("verification_codes", "message_log", "interactions", "users"):
                _admin_sql(f'ANALYZE "{schema}".{table}')

        label = f"PostgreSQL, {POSTGRES_WORKERS} workers"
        yield Database(label, env, POSTGRES_WORKERS, POSTGRES_SHARE, count, analyze)
    finally:
        _admin_sql(f'DROP SCHEMA "{schema}" CASCADE')


# --- set-up ------------------------------------------------------------------------------------


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

    for first in (WARMUP, SEND, FILL, EXPERIENCE, VERIFY, USERS):
        for offset in (1, THREADS * 5_000_000 - 1):
            number = phonenumbers.parse(flows.phone(first + offset))
            assert phonenumbers.is_valid_number(number), number


def set_up(url: str, key: str) -> None:
    """The outbox connector and the benchmark's limits, through the Management API."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        connector = {"connectorId": "outbox-sms", "config": {}}
        api.post("/api/connectors", json=connector).raise_for_status()
        settings = {
            "rateLimits": BENCH_LIMITS,
            "verificationCodePolicy": BENCH_CODE_POLICY,
            "smsProtection": BENCH_PROTECTION,
        }
        api.patch("/api/tenant/settings", json=settings).raise_for_status()


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
class Row:
    database: Database
    name: str
    bare: Run
    run: Run | None = None  # a wrk row
    expected: str = "204"
    sign_ins: flows.SignIns | None = None
    sign_in_cpu_ms: float = 0.0

    def ok(self) -> bool:
        if self.run is not None:
            return (
                self.run.rps / self.bare.rps >= self.database.share
                and self.run.p99_ms <= P99_TARGET_MS
                and self.run.unexpected(self.expected) == 0
            )
        assert self.sign_ins is not None
        fast = self.sign_ins.rate >= SIGN_IN_TARGET or self.database.workers > 1
        return fast and self.sign_ins.unexpected == 0 and self.sign_ins.completed > 0


@dataclass
class Memory:
    database: Database
    codes: int
    start_mb: list[float]
    after_codes_mb: list[float]
    end_mb: list[float]

    def ok(self) -> bool:
        return self.codes >= CODES_FOR_RSS and max(self.after_codes_mb) <= RSS_TARGET_MB


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    memory: list[Memory] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def progress(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def bench_bare(bare: Server) -> Run:
    """The reference, run again just before each measured row: this machine's speed drifts, so
    a row is only compared with a bare run made under the same conditions."""
    return wrk(bare, "bare FastAPI endpoint", "/bare", "fixed", "-", 0, DURATION_S)


def bench_database(db: Database, bare: Server, work: Path, results: Results) -> None:
    key = create_admin_key(db.env)
    progress(f"{db.label}: starting phoneauth")
    with serve_phoneauth(db.env, db.workers) as server:
        set_up(server.url, key)
        start_mb = server.worker_rss_mb()
        wrk(server, "warm-up", SEND_PATH, "phones", key, WARMUP, WARMUP_S)

        before = bench_bare(bare)
        send = wrk(server, "Management send-code", SEND_PATH, "phones", key, SEND, DURATION_S)
        results.rows.append(Row(db, send.name, before, send))

        # One fresh interaction per request: as many as the run may need, started in at most
        # COOKIES_S; a wrk thread that has used all its cookies stops (a shorter run).
        wanted = min(60_000, max(1_000, round(2 * send.rps * DURATION_S)))
        progress(f"{db.label}: starting up to {wanted:,} interactions")
        cookies = asyncio.run(flows.interaction_cookies(server.url, wanted, COOKIES_S))
        db.after_bulk_load()
        cookie_file = work / "cookies.txt"
        cookie_file.write_text("\n".join(cookies) + "\n")
        before = bench_bare(bare)
        experience = wrk(
            server,
            "Experience send-code",
            flows.SEND,
            "experience",
            "-",
            EXPERIENCE,
            DURATION_S,
            str(cookie_file),
        )
        results.rows.append(Row(db, experience.name, before, experience, expected="200"))
        before = bench_bare(bare)
        page = wrk(server, "sign-in page (GET /sign-in)", "/sign-in", "page", "-", 0, DURATION_S)
        results.rows.append(Row(db, page.name, before, page, expected="200"))
        results.notes.append(
            f"{db.label}: {len(cookies):,} interactions started for Experience send-code "
            f"({experience.requests:,} used in {experience.requests / experience.rps:.1f} s); "
            f"answers: {experience.answers()}."
        )

        # Up to 100,000 codes: wrk, then the codes the verify runs need, read from the outbox.
        right_codes = min(40_000, max(1_000, round(3 * send.rps * DURATION_S)))
        verify_codes = right_codes + WRONG_CODE_NUMBERS
        enough = CODES_FOR_RSS - verify_codes
        progress(f"{db.label}: sending until {enough:,} codes")
        stop = time.monotonic() + FILL_LIMIT_S
        fill = wrk_until(
            server,
            "fill",
            SEND_PATH,
            "phones",
            key,
            FILL,
            lambda: db.count_codes() >= enough or time.monotonic() > stop,
        )
        progress(f"{db.label}: {verify_codes:,} codes for the verify rows")
        issued = asyncio.run(flows.issue_codes(server.url, key, VERIFY, verify_codes))
        db.after_bulk_load()
        codes = db.count_codes()
        after_codes_mb = server.worker_rss_mb()
        results.notes.append(
            f"{db.label}: fill to {codes:,} codes by wrk, {fill.requests:,} sends at "
            f"{fill.rps:,.0f}/s, p99 {fill.p99_ms:.0f} ms, {fill.unexpected('204'):,} unexpected"
            f" answers; then {verify_codes:,} codes from an aiohttp client, read from the outbox."
        )

        right_file, wrong_file = verify_bodies(issued, work)
        before = bench_bare(bare)
        wrong = wrk(server, "verify, wrong code", VERIFY_PATH, "file", key, wrong_file, DURATION_S)
        expected = "400 verification_code.code_mismatch"
        results.rows.append(Row(db, wrong.name, before, wrong, expected=expected))
        before = bench_bare(bare)
        # Each right code once (a used one would answer 400): the run may end when they do.
        right = wrk(server, "verify, right code", VERIFY_PATH, "once", key, right_file, DURATION_S)
        results.rows.append(Row(db, right.name, before, right))
        results.notes.append(
            f"{db.label}: verify, right code: {right.requests:,} of {right_codes:,} codes used "
            f"in {right.requests / right.rps:.1f} s; answers: {right.answers()}."
        )

        users = range(USERS, USERS + SIGN_IN_USERS)
        progress(f"{db.label}: registering {len(users):,} users")
        uvloop.run(flows.register(server.url, key, users))
        before = bench_bare(bare)
        cpu = server.cpu_s()
        sign_ins = uvloop.run(flows.sign_ins(server.url, key, users, WARMUP_S, DURATION_S))
        cpu_ms = (server.cpu_s() - cpu) / max(sign_ins.finished, 1) * 1000
        row = Row(db, "whole sign-in by code", before, sign_ins=sign_ins, sign_in_cpu_ms=cpu_ms)
        results.rows.append(row)
        results.memory.append(Memory(db, codes, start_mb, after_codes_mb, server.worker_rss_mb()))


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(results: Results) -> tuple[str, bool]:
    lines = [
        "| database | row | rate (/s) | bare just before (requests/s) | % of bare | p50 (ms)"
        " | p99 (ms) | server CPU each (ms) | done | unexpected | target | meets target |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    all_met = True
    for row in results.rows:
        ok = row.ok()
        all_met &= ok
        if row.run is not None:
            run = row.run
            target = (
                f"≥ {row.database.share:.0%} of bare, p99 ≤ {P99_TARGET_MS:.0f} ms, 0 unexpected"
            )
            lines.append(
                f"| {row.database.label} | {row.name} | {run.rps:,.0f} | {row.bare.rps:,.0f}"
                f" | {run.rps / row.bare.rps:.0%} | {run.p50_ms:.1f} | {run.p99_ms:.1f}"
                f" | {run.cpu_ms:.2f} | {run.requests:,} | {run.unexpected(row.expected):,}"
                f" | {target} | {_met(ok)} |"
            )
            continue
        s = row.sign_ins
        assert s is not None
        target = (
            f"≥ {SIGN_IN_TARGET:.0f} sign-ins/s, 0 unexpected"
            if row.database.workers == 1
            else "0 unexpected (rate reported)"
        )
        lines.append(
            f"| {row.database.label} | {row.name} (sign-ins) | {s.rate:,.0f}"
            f" | {row.bare.rps:,.0f} | – | {s.percentile(0.5):.1f} | {s.percentile(0.99):.1f}"
            f" | {row.sign_in_cpu_ms:.2f} | {s.completed:,} | {s.unexpected:,} | {target}"
            f" | {_met(ok)} |"
        )
    lines.append("")
    for memory in results.memory:
        ok = memory.ok()
        all_met &= ok

        def mb(values: list[float]) -> str:
            return " + ".join(f"{value:.0f}" for value in values) + " MB"

        lines.append(
            f"- {memory.database.label}: RSS after {memory.codes:,} codes"
            f" **{mb(memory.after_codes_mb)}**"
            f" (target ≤ {RSS_TARGET_MB:.0f} MB per server process: {_met(ok)}); "
            f"{mb(memory.start_mb)} before the first code, {mb(memory.end_mb)} at the end."
        )
    return "\n".join(lines), all_met


def describe(results: Results) -> str:
    sign_ins = [row for row in results.rows if row.sign_ins is not None]
    client = "; ".join(
        f"{row.database.label}: client CPU {row.sign_ins.client_cpu_s / DURATION_S:.0%} of a core"
        + (f", failures {row.sign_ins.failures}" if row.sign_ins and row.sign_ins.failures else "")
        for row in sign_ins
        if row.sign_ins is not None
    )
    return "\n".join(
        [
            "What each row measures:",
            "",
            "- **bare**: `POST /bare` with a pydantic body (`{phone}`) → 204, its own process with "
            "the same uvicorn options as `phoneauth serve` (one worker), run for "
            f"{DURATION_S} s just before each row; the row is compared with that run. Both "
            "servers log at level WARNING: neither writes an access line.",
            "- **server CPU each**: user + system time of all the server's processes during the "
            "run, over its requests (over the sign-ins finished, warm-up included, for sign-in).",
            "- **Management send-code**: `POST /api/verification-codes`, admin key, a new valid "
            "number each request; the outbox connector. 204.",
            "- **Experience send-code**: `POST /api/experience/verification/verification-code`, "
            "a new number each request, each with a fresh sign-in interaction's cookie (the "
            "interactions started beforehand by `PUT /api/experience`, the cookies fed to wrk's "
            "script one per request, so only send-code is timed). 200 `{verificationId}`.",
            "- **verify**: `POST /api/verification-codes/verify`, the right code (read back from "
            "the outbox; consumes it) or a wrong one for one of "
            f"{WRONG_CODE_NUMBERS:,} numbers with a code waiting.",
            "- **whole sign-in by code**: 32 concurrent users (aiohttp, uvloop), each: `PUT "
            "/api/experience` (SignIn), send code, read it from `GET /api/outbox?phone=` (admin "
            "key; over the user's own keep-alive connection, since the outbox is per process), "
            "verify, identify, submit (200 with an access token); "
            f"{SIGN_IN_USERS:,} users registered beforehand by the same flow, two per concurrent "
            "user, signed in in turn (recipient budget raised for it). Rate: "
            f"sign-ins finished in the {DURATION_S} s after {WARMUP_S} s of warm-up; p50/p99 of "
            f"one whole sign-in. {client}.",
            "",
            "The limiter is not what is measured: `PATCH /api/tenant/settings` raised the "
            f"tenant's budgets to `{json.dumps(BENCH_LIMITS)}` and its code policy to "
            f"`{json.dumps(BENCH_CODE_POLICY)}` and its SMS protection to "
            f"`{json.dumps(BENCH_PROTECTION)}`, so that nothing is refused; every budget is "
            "still tested and counted (in process memory: no Redis, so per worker).",
            "",
            "PostgreSQL statistics: this machine's PostgreSQL runs with autovacuum off, so after "
            "each bulk load (the interactions started for the Experience row, the codes sent to "
            "fill the database) the bench runs `ANALYZE` on phoneauth's tables, as autovacuum "
            "(on by default) would within a minute. Without it the planner keeps the statistics "
            "of empty tables and verify scans every code (about 50 verifies/s at 100,000 codes).",
            "",
            *(f"- {note}" for note in results.notes),
        ]
    )


def run() -> tuple[str, bool]:
    """The whole benchmark: its section of RESULTS.md, and whether every target was met."""
    check_numbers()
    results = Results()
    with tempfile.TemporaryDirectory(prefix="phoneauth-bench-") as tmp:
        work = Path(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")},
            "PHONEAUTH_SECRET_KEY": secrets.token_urlsafe(32),
            "PHONEAUTH_LOG_LEVEL": "WARNING",
        }
        with serve_bare(env) as bare:
            wrk(bare, "warm-up", "/bare", "fixed", "-", 0, WARMUP_S)
            with sqlite_database(env, work) as db:
                bench_database(db, bare, work, results)
            with postgres_database(env, work) as db:
                bench_database(db, bare, work, results)
    report, ok = table(results)
    options = server_options()
    machine = (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, uvicorn {uvicorn.__version__} with loop "
        f"{options['loop']} and HTTP parser {options['http']}"
    )
    section = (
        "## The service under load\n\n"
        f"`wrk` with {CONNECTIONS} connections and {THREADS} threads, {DURATION_S} s per row "
        f"after {WARMUP_S} s of warm-up, on 127.0.0.1 and the same machine as the servers "
        f"({machine}). Targets: each request row ≥ {SQLITE_SHARE:.0%} of the bare endpoint's "
        f"requests/s on SQLite (one process), ≥ {POSTGRES_SHARE:.0%} on PostgreSQL with "
        f"{POSTGRES_WORKERS} workers (bare: one), p99 ≤ {P99_TARGET_MS:.0f} ms, no unexpected "
        f"answers; ≥ {SIGN_IN_TARGET:.0f} whole sign-ins/s on SQLite; RSS ≤ "
        f"{RSS_TARGET_MB:.0f} MB per server process after {CODES_FOR_RSS:,} codes (sending "
        f"stops after {FILL_LIMIT_S} s: a slower server misses that target).\n\n"
        + report
        + "\n\n"
        + describe(results)
        + "\n"
    )
    return section, ok
