"""The codes engine with routing, on SQLite and PostgreSQL: one message-log row per attempt,
linked to the code, and the code stored is the one the standby delivered."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tests.domain.codes_support import PHONE, Clock, Source, make_codes, make_tenant
from tests.domain.test_sms_router import Scripted, Setup

from phoneauth.connectors import UsageType
from phoneauth.connectors.errors import InvalidRequestParametersError, RateLimitExceededError
from phoneauth.domain.circuit_breaker import CircuitBreakers
from phoneauth.domain.ports import ActiveConnector
from phoneauth.domain.sms_router import SmsRouter
from phoneauth.domain.sms_routing import RoutingRules
from phoneauth.storage.database import Database
from phoneauth.storage.models import MessageLogRow, VerificationCodeRow


async def rows(database: Database) -> list[MessageLogRow]:
    async with AsyncSession(database.engine) as session:
        found = await session.scalars(select(MessageLogRow).order_by(MessageLogRow.attempt))
        return list(found)


async def test_each_attempt_is_a_row_of_one_send_linked_to_the_code(database: Database) -> None:
    tenant = await make_tenant(database, "default")
    connectors = {"main": Scripted("main"), "backup": Scripted("backup")}
    setup = Setup(RoutingRules(fallback=("backup",)), connectors)
    source = Source({tenant.id: ActiveConnector("main", "fake-active", connectors["main"])})
    codes = make_codes(database, source, Clock())
    codes.router = SmsRouter(setup, setup, CircuitBreakers())
    connectors["main"].script = [RateLimitExceededError()]

    sent = await codes.send(tenant, PHONE, UsageType.SIGN_IN)

    assert sent.connector_id == "backup"
    first, second = await rows(database)
    async with AsyncSession(database.engine) as session:
        [code] = list(await session.scalars(select(VerificationCodeRow)))
    assert (first.attempt, first.connector_id, first.status, first.error_code) == (
        1,
        "main",
        "failed",
        "connector.rate_limit_exceeded",
    )
    assert (second.attempt, second.connector_id, second.status) == (2, "backup", "sent")
    assert first.send_id == second.send_id is not None
    assert first.code_id == second.code_id == code.id
    assert first.country == second.country == "DE"
    assert second.latency_ms is not None
    await codes.verify(
        tenant, PHONE, UsageType.SIGN_IN, connectors["backup"].sent[0].payload["code"]
    )


async def test_a_permanent_failure_keeps_the_waiting_code_and_sends_nothing_else(
    database: Database,
) -> None:
    tenant = await make_tenant(database, "default")
    connectors = {"main": Scripted("main"), "backup": Scripted("backup")}
    setup = Setup(RoutingRules(fallback=("backup",)), connectors)
    source = Source({tenant.id: ActiveConnector("main", "fake-active", connectors["main"])})
    codes = make_codes(database, source, Clock())
    codes.router = SmsRouter(setup, setup, CircuitBreakers())
    await codes.send(tenant, PHONE, UsageType.SIGN_IN)
    waiting = connectors["main"].sent[0].payload["code"]
    connectors["main"].script = [InvalidRequestParametersError(http_status=400)]

    with pytest.raises(InvalidRequestParametersError):
        await codes.send(tenant, PHONE, UsageType.SIGN_IN)

    assert connectors["backup"].sent == []
    await codes.verify(tenant, PHONE, UsageType.SIGN_IN, waiting)
