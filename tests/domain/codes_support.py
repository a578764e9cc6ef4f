"""Helpers for the code-engine tests: a movable clock, a connector source, a migrated database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from tests.conftest import DatabaseUnderTest

from phoneauth.connectors import Connector
from phoneauth.connectors.providers import outbox
from phoneauth.domain.code_resends import CodeSealer
from phoneauth.domain.message_log import MessageLog
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.rate_limit_counters import RateLimitCounters
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.rate_limits import RateLimits
from phoneauth.domain.tenants import Tenant, TenantKind, Tenants, TenantSettings
from phoneauth.domain.verification_codes import VerificationCodes
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.migrate import upgrade
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore

PHONE = "+4915112345678"
OTHER_PHONE = "+4915187654321"
HASH_KEY = b"k" * 32


class Clock:
    """Now is whatever the test says; starts near the real time so nothing looks odd."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Source:
    """An `SmsConnectorSource` with one connector per tenant id, changeable by the test."""

    active: dict[str, ActiveConnector] = field(default_factory=dict)

    async def active_sms_connector(self, tenant_id: str) -> ActiveConnector | None:
        return self.active.get(tenant_id)


def outbox_connector(client: httpx.AsyncClient, box: outbox.Outbox) -> ActiveConnector:
    connector: Connector = outbox.FACTORY.build({}, client, outbox=box)
    return ActiveConnector(row_id="row-outbox", factory_id=outbox.FACTORY.id, connector=connector)


async def migrated(under_test: DatabaseUnderTest) -> Database:
    database = open_database(under_test.url, schema=under_test.schema)
    await upgrade(database.engine)
    return database


async def make_tenant(database: Database, tenant_id: str, **settings: object) -> Tenant:
    """A tenant with `settings`; the resend cooldown off unless they set it, so that tests of
    other rules may send twice in a row (the resend rules have their own tests)."""
    policy = settings.get("verificationCodePolicy")
    policy = dict(policy) if isinstance(policy, dict) else {}
    policy.setdefault("resendCooldownSeconds", 0)
    settings = {**settings, "verificationCodePolicy": policy}
    tenants = Tenants(SqlTenantStore(database))
    if tenant_id == "default":
        await tenants.ensure_default()
    else:
        await tenants.create(tenant_id, tenant_id, TenantKind.DEVELOPMENT)
    return await tenants.update_settings(tenant_id, TenantSettings.model_validate(settings))


def make_codes(
    database: Database,
    source: Source,
    clock: Clock,
    counters: RateLimitCounters | None = None,
    sealer: CodeSealer | None = None,
) -> VerificationCodes:
    return VerificationCodes(
        store=SqlVerificationCodeStore(database),
        message_log=MessageLog(SqlMessageLogStore(database)),
        rate_limits=RateLimits(counters or MemoryCounters(), hash_key=HASH_KEY),
        hash_key=HASH_KEY,
        connectors=source,
        tenants=SqlTenantStore(database),
        clock=clock,
        sealer=sealer,
    )


def other_code(code: str) -> str:
    """A wrong code: the right one plus one, six digits."""
    return f"{(int(code) + 1) % 1_000_000:06d}"
