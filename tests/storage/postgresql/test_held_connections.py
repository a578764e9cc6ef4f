"""PostgreSQL: `Prepared` statements run on connections held between statements
(`phoneauth.storage.held_connections`): reused, few kept idle, none reused after it broke or
after its statement was cancelled."""

from __future__ import annotations

import asyncio

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import Integer, text
from sqlalchemy.exc import DBAPIError
from tests.conftest import POSTGRES_URL

from phoneauth.storage.database import HELD_IDLE, POOL_SIZE, Database, Statement
from phoneauth.storage.prepared import Prepared

_PID = Prepared(text("SELECT pg_backend_pid() AS pid").columns(pid=Integer))
_PID_AFTER = Prepared(
    text("SELECT pg_backend_pid() AS pid FROM pg_sleep(CAST(:seconds AS float))").columns(
        pid=Integer
    )
)
_FAILS = Prepared(text("SELECT 1 / CAST(:zero AS integer) AS never").columns(never=Integer))


def _first(result: object) -> int:
    return int(result.first()[0])  # type: ignore[attr-defined]


async def pid(database: Database, seconds: float = 0.0) -> int:
    if seconds:
        return await database.read(Statement(_PID_AFTER, {"seconds": seconds}, _first))
    return await database.read(Statement(_PID, None, _first))


async def sleeping_backends() -> set[int]:
    """The server processes running this file's long statement (`_PID_AFTER`)."""
    admin = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""))
    try:
        rows = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND query LIKE '%FROM pg_sleep(CAST($1 AS float))%'"
        )
        return {row["pid"] for row in rows}
    finally:
        await admin.close()


async def test_statements_one_after_another_reuse_one_connection(database: Database) -> None:
    first = await pid(database)
    assert [await pid(database) for _ in range(5)] == [first] * 5
    assert database.engine.pool.checkedout() == 1  # type: ignore[attr-defined]


async def test_after_a_burst_only_a_few_stay_idle_and_the_pool_keeps_the_rest(
    database: Database,
) -> None:
    pids = await asyncio.gather(*(pid(database, 0.05) for _ in range(POOL_SIZE)))
    assert len(set(pids)) > HELD_IDLE  # the burst needed more connections than are kept
    assert database.engine.pool.checkedout() == HELD_IDLE  # type: ignore[attr-defined]
    # What is not held is the ORM units': as many of them as that can run at once (a pool
    # held whole would keep them waiting for its 30 s timeout).
    others = POOL_SIZE - HELD_IDLE
    orm = (
        database.read(lambda session: session.execute(text("SELECT pg_sleep(0.05)")).all())
        for _ in range(others)
    )
    assert len(await asyncio.wait_for(asyncio.gather(*orm), timeout=5)) == others


async def test_a_statement_that_fails_leaves_its_connection_usable(database: Database) -> None:
    before = await pid(database)
    with pytest.raises(DBAPIError, match="division by zero"):
        await database.read(Statement(_FAILS, {"zero": 0}, _first))
    assert await pid(database) == before


async def test_a_cancelled_statement_never_gives_its_connection_to_another(
    database: Database,
) -> None:
    earlier = await sleeping_backends()  # another run's, still sleeping
    sleeping = asyncio.create_task(pid(database, 3))
    for _ in range(50):
        await asyncio.sleep(0.1)
        running = await sleeping_backends() - earlier
        if running:
            break
    (cancelled,) = running
    sleeping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeping
    # Its server process may sleep on (PostgreSQL notices a closed client at its next read);
    # no later statement is sent to it.
    assert {await pid(database) for _ in range(HELD_IDLE + 1)}.isdisjoint({cancelled})
