"""The job that deletes expired interactions: every tenant, every round, through failures."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from phoneauth.domain.interaction_cleanup import run_interaction_cleanup
from phoneauth.domain.interactions import Interactions
from phoneauth.domain.tenants import Tenant, TenantKind, TenantSettings
from phoneauth.errors import DatabaseUnavailableError

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class Tenants:
    def __init__(self, *ids: str) -> None:
        self.tenants = [Tenant(i, i, TenantKind.DEVELOPMENT, TenantSettings(), NOW) for i in ids]

    async def list(self) -> list[Tenant]:
        return self.tenants


class Store:
    """Counts the deletes asked for; fails the rounds it is told to fail."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.asked: list[tuple[str, datetime]] = []
        self.wanted = 1
        self.reached = asyncio.Event()

    async def delete_expired(self, tenant_id: str, now: datetime) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.asked.append((tenant_id, now))
        if len(self.asked) >= self.wanted:
            self.reached.set()
        return 1


async def rounds(store: Store, tenants: Tenants, until: int) -> None:
    interactions = Interactions(store, clock=lambda: NOW)  # type: ignore[arg-type]
    job = asyncio.create_task(run_interaction_cleanup(interactions, tenants, every=0.001))
    store.wanted = until
    try:
        await asyncio.wait_for(store.reached.wait(), 5)
    finally:
        job.cancel()


async def test_each_round_cleans_every_tenant_at_the_clock_s_time() -> None:
    store = Store([])
    await rounds(store, Tenants("default", "acme"), until=4)
    assert store.asked[:4] == [("default", NOW), ("acme", NOW)] * 2


async def test_a_database_outage_is_left_to_the_database_log_and_the_job_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store([DatabaseUnavailableError(), DatabaseUnavailableError()])
    with caplog.at_level(logging.DEBUG, logger="phoneauth.interactions"):
        await rounds(store, Tenants("default"), until=1)
    assert store.asked[0] == ("default", NOW)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_any_other_failure_is_logged_and_the_job_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store([RuntimeError("disk on fire")])
    with caplog.at_level(logging.DEBUG, logger="phoneauth.interactions"):
        await rounds(store, Tenants("default"), until=1)
    assert store.asked[0] == ("default", NOW)
    [failure] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "trying again" in failure.getMessage()
    assert failure.exc_info is not None
