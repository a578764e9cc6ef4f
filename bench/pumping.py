"""The SMS pumping row of `make bench` (issue 16), and the simulation its test asserts on.

A bot asks for codes to 500 numbers while legitimate users keep signing in from three other
countries (send, then verify the code they received), through the real code engine
(`VerificationCodes`, with the pumping defence as the server wires it) on an SQLite file, the
outbox connector and a simulated clock (one request every second): the figures are what left
and what was refused, not timings. Three bots:

- `premium prefix`: 500 sequential numbers in one premium-rate range (GB +44 909 879 0xxx);
- `sequential mobile`: 500 sequential numbers in one mobile range (LV +371 2500 0xxx);
- `random mobile`: 500 random valid mobile numbers of one country (LV), never verified.

The tenant keeps the default settings (`smsProtection` untouched; no IP for the bot, which
rotates addresses, so no per-IP budget helps).
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import phonenumbers

from phoneauth.connectors import UsageType
from phoneauth.connectors.providers import outbox
from phoneauth.domain.message_log import MessageLog
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.rate_limits import RateLimits
from phoneauth.domain.sms_protection import SmsProtection
from phoneauth.domain.tenants import Tenant, Tenants
from phoneauth.domain.verification_codes import VerificationCodes
from phoneauth.errors import PhoneauthError
from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import upgrade
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.sms_protection import SqlSuspensionStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore

BOT_NUMBERS = 500
RUNS = ("premium prefix", "sequential mobile", "random mobile")
LEGITIMATE_REGIONS = ("DE", "FR", "US")
_HASH_KEY = b"p" * 32


@dataclass
class PumpingRun:
    name: str
    bot_requests: int
    bot_sent: int
    """Bot SMS that left (reached the connector)."""
    bot_refusals: dict[str, int]
    legitimate_sends: int
    legitimate_refused: int
    legitimate_verified: int


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


class _Source:
    def __init__(self, connector: ActiveConnector) -> None:
        self.connector = connector

    async def active_sms_connector(self, tenant_id: str) -> ActiveConnector | None:
        return self.connector


def _valid(e164: str, kinds: tuple[int, ...]) -> bool:
    parsed = phonenumbers.parse(e164)
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in kinds


_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _random_numbers(region: str, count: int, rng: random.Random) -> list[str]:
    """`count` distinct random valid mobile numbers of `region`."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    code = example.country_code
    found: set[str] = set()
    while len(found) < count:
        keep = max(1, len(national) - 6)
        digits = national[:keep] + "".join(
            rng.choice("0123456789") for _ in range(len(national) - keep)
        )
        candidate = f"+{code}{digits}"
        if _valid(candidate, _MOBILE):
            found.add(candidate)
    return sorted(found, key=lambda _: rng.random())


def bot_numbers(run: str, rng: random.Random) -> list[str]:
    if run == "premium prefix":
        return [f"+449098790{index:03d}" for index in range(BOT_NUMBERS)]
    if run == "sequential mobile":
        return [f"+371250{index:05d}" for index in range(BOT_NUMBERS)]
    return _random_numbers("LV", BOT_NUMBERS, rng)


async def simulate(run: str, *, seed: int = 16, folder: Path | None = None) -> PumpingRun:
    """One bot run beside legitimate users, on a fresh SQLite file in `folder` (or a temp one)."""
    if folder is None:
        with tempfile.TemporaryDirectory() as temporary:
            return await simulate(run, seed=seed, folder=Path(temporary))
    rng = random.Random(seed)
    database = open_database(f"sqlite+aiosqlite:///{folder / f'pumping-{seed}.db'}")
    try:
        await upgrade(database.engine)
        tenant = await Tenants(SqlTenantStore(database)).ensure_default()
        return await _run(run, rng, database, tenant)
    finally:
        await database.dispose()


async def _run(run: str, rng: random.Random, database: object, tenant: Tenant) -> PumpingRun:
    from phoneauth.storage.database import Database

    assert isinstance(database, Database)
    clock = _Clock()
    counters = MemoryCounters(clock=clock.epoch)
    box = outbox.Outbox(maxlen=10_000)
    connector = outbox.FACTORY.build({}, None, outbox=box)
    codes = VerificationCodes(
        store=SqlVerificationCodeStore(database),
        message_log=MessageLog(SqlMessageLogStore(database)),
        rate_limits=RateLimits(counters, hash_key=_HASH_KEY),
        hash_key=_HASH_KEY,
        connectors=_Source(ActiveConnector("row-outbox", outbox.FACTORY.id, connector)),
        tenants=SqlTenantStore(database),
        clock=clock,
        protection=SmsProtection(
            counters, SqlSuspensionStore(database), hash_key=_HASH_KEY, clock=clock
        ),
    )
    legitimate = [
        number for region in LEGITIMATE_REGIONS for number in _random_numbers(region, 100, rng)
    ]
    rng.shuffle(legitimate)
    result = PumpingRun(run, 0, 0, {}, 0, 0, 0)
    for step, number in enumerate(bot_numbers(run, rng)):
        clock.now += timedelta(seconds=1)
        result.bot_requests += 1
        try:
            await codes.send(tenant, number, UsageType.REGISTER)
            result.bot_sent += 1
        except PhoneauthError as refusal:
            result.bot_refusals[refusal.code] = result.bot_refusals.get(refusal.code, 0) + 1
        if step % 2 == 0:  # a legitimate sign-in every other second, verified at once
            user = legitimate[(step // 2) % len(legitimate)]
            await _sign_in(codes, tenant, user, box, ip=f"10.0.{step % 200}.1", result=result)
    return result


async def _sign_in(
    codes: VerificationCodes,
    tenant: Tenant,
    phone: str,
    box: outbox.Outbox,
    *,
    ip: str,
    result: PumpingRun,
) -> None:
    result.legitimate_sends += 1
    try:
        await codes.send(tenant, phone, UsageType.SIGN_IN, ip=ip)
    except PhoneauthError:
        result.legitimate_refused += 1
        return
    message = box.latest(phone)
    code = None if message is None else message.code
    if code is not None:
        await codes.verify(tenant, phone, UsageType.SIGN_IN, code)
        result.legitimate_verified += 1


def pumping_table(runs: list[PumpingRun]) -> str:
    lines = [
        "## SMS pumping defence",
        "",
        f"A bot asks for codes to {BOT_NUMBERS} numbers while legitimate users sign in from "
        f"{', '.join(LEGITIMATE_REGIONS)} (send, then verify), default settings, simulated clock "
        "(`bench/pumping.py`). Targets: ≤ 20 bot SMS sent, 0 legitimate sends refused.",
        "",
        "| bot | bot SMS sent | bot refused (by code) | legitimate sends | refused | verified |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for run in runs:
        refusals = ", ".join(f"{code} {count}" for code, count in sorted(run.bot_refusals.items()))
        lines.append(
            f"| {run.name} | {run.bot_sent} | {refusals} | {run.legitimate_sends} | "
            f"{run.legitimate_refused} | {run.legitimate_verified} |"
        )
    return "\n".join(lines)


async def bench_pumping() -> tuple[str, bool]:
    runs = [await simulate(run) for run in RUNS]
    ok = all(run.bot_sent <= 20 and run.legitimate_refused == 0 for run in runs)
    return pumping_table(runs), ok
