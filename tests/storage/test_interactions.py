"""The interaction store and service: tenant-scoped rows, a fixed lifetime, cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest
from tests.loop_turns_support import turns_during
from tests.storage.unit_counting import count_units

from phoneauth.domain.interaction_cleanup import delete_expired_interactions
from phoneauth.domain.interactions import (
    InteractionConflictError,
    InteractionEvent,
    InteractionNotFoundError,
    Interactions,
    PhoneIdentifier,
    VerificationRecord,
    VerificationSessionNotFoundError,
    VerificationType,
)
from phoneauth.domain.tenants import TenantKind, Tenants
from phoneauth.errors import DatabaseUnavailableError
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.repositories import interactions as interactions_store
from phoneauth.storage.repositories.interactions import SqlInteractionStore
from phoneauth.storage.repositories.tenants import SqlTenantStore

PHONE = "+4915112345678"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def database(migrated_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    database = open_database(migrated_database.url, schema=migrated_database.schema)
    tenants = Tenants(SqlTenantStore(database))
    await tenants.ensure_default()
    await tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    try:
        yield database
    finally:
        await database.dispose()


def record(kind: VerificationType, record_id: str) -> VerificationRecord:
    return VerificationRecord(id=record_id, type=kind, identifier=PhoneIdentifier(value=PHONE))


async def test_an_interaction_round_trips_and_stays_in_its_tenant(database: Database) -> None:
    interactions = Interactions(SqlInteractionStore(database))
    started = await interactions.start("default", InteractionEvent.SIGN_IN, redirect_to="/home")
    assert len(started.id) >= 32
    started.set_record(record(VerificationType.PHONE_VERIFICATION_CODE, "r1"))
    started.data.user_id = "u1"
    await interactions.save(started)

    loaded = await interactions.load("default", started.id)
    assert loaded.event is InteractionEvent.SIGN_IN
    assert loaded.user_id == "u1"
    assert loaded.data.redirect_to == "/home"
    assert loaded.record("r1").phone == PHONE
    with pytest.raises(InteractionNotFoundError):
        await interactions.load("other", started.id)
    await interactions.finish(loaded)
    with pytest.raises(InteractionNotFoundError):
        await interactions.load("default", started.id)


async def test_one_record_per_type(database: Database) -> None:
    interactions = Interactions(SqlInteractionStore(database))
    started = await interactions.start("default", InteractionEvent.REGISTER)
    started.set_record(record(VerificationType.PHONE_VERIFICATION_CODE, "first"))
    started.set_record(record(VerificationType.MFA_PHONE_VERIFICATION_CODE, "mfa"))
    started.set_record(record(VerificationType.PHONE_VERIFICATION_CODE, "second"))
    assert [r.id for r in started.records()] == ["mfa", "second"]
    with pytest.raises(VerificationSessionNotFoundError):
        started.record("first")
    with pytest.raises(VerificationSessionNotFoundError):
        started.record_of_type(VerificationType.PASSWORD, "second")


async def test_the_lifetime_is_fixed_at_start_and_expired_rows_are_cleaned(
    database: Database,
) -> None:
    clock = Clock()
    store = SqlInteractionStore(database)
    interactions = Interactions(store, clock=clock)
    old = await interactions.start("default", InteractionEvent.SIGN_IN)
    theirs = await interactions.start("other", InteractionEvent.SIGN_IN)
    assert old.expires_at == clock.now + timedelta(seconds=3600)
    clock.now += timedelta(seconds=3599)
    await interactions.save(await interactions.load("default", old.id))
    clock.now += timedelta(seconds=1)
    with pytest.raises(InteractionNotFoundError):
        await interactions.load("default", old.id)
    assert await store.delete_expired("default", clock.now) == 1
    assert await store.get("default", old.id) is None
    assert await store.get("other", theirs.id) is not None  # another tenant's rows stay


async def test_a_start_leaves_expired_rows_to_the_cleanup_job(database: Database) -> None:
    clock = Clock()
    store = SqlInteractionStore(database)
    interactions = Interactions(store, clock=clock)
    old = await interactions.start("default", InteractionEvent.SIGN_IN)
    clock.now += timedelta(seconds=3601)
    new = await interactions.start("default", InteractionEvent.SIGN_IN)
    assert await store.get("default", old.id) is not None  # no start waits for a cleanup
    theirs = await interactions.start("other", InteractionEvent.SIGN_IN)
    clock.now += timedelta(seconds=3600)  # `new` and `theirs` have just expired too
    latest = await interactions.start("other", InteractionEvent.SIGN_IN)
    assert await delete_expired_interactions(interactions, SqlTenantStore(database)) == 3
    assert [await store.get(i.tenant_id, i.id) for i in (old, new, theirs)] == [None] * 3
    assert await store.get("other", latest.id) is not None


async def test_the_cleanup_deletes_in_batches_and_serves_other_work_between_them(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions_store, "CLEANUP_BATCH", 2)
    clock = Clock()
    store = SqlInteractionStore(database)
    interactions = Interactions(store, clock=clock)
    expired = [await interactions.start("default", InteractionEvent.SIGN_IN) for _ in range(5)]
    theirs = await interactions.start("other", InteractionEvent.SIGN_IN)
    clock.now += timedelta(seconds=1)
    live = await interactions.start("default", InteractionEvent.SIGN_IN)
    clock.now += timedelta(seconds=3599)  # the first five have just expired
    deleted, turns = await turns_during(store.delete_expired("default", clock.now))
    assert deleted == 5
    assert turns >= 2  # requests are served between the 3 batches, not after all of them
    assert [await store.get("default", i.id) for i in expired] == [None] * 5
    assert await store.get("default", live.id) is not None
    assert await store.get("other", theirs.id) is not None  # their own cleanup's to delete


async def test_a_broken_document_is_no_interaction(database: Database) -> None:
    store = SqlInteractionStore(database)
    interactions = Interactions(store)
    started = await interactions.start("default", InteractionEvent.SIGN_IN)
    assert await store.update(
        "default", started.id, {"interactionEvent": "Teleport"}, expected_version=1
    )
    with pytest.raises(InteractionNotFoundError):
        await interactions.load("default", started.id)
    with pytest.raises(InteractionNotFoundError):
        await interactions.load("default", None)


async def test_a_save_from_a_stale_copy_is_refused_not_lost(database: Database) -> None:
    """Two requests load the same interaction; the second save would undo the first's change
    (last write wins). It is refused instead, and the first change stays."""
    interactions = Interactions(SqlInteractionStore(database))
    started = await interactions.start("default", InteractionEvent.REGISTER)
    tab_a = await interactions.load("default", started.id)
    tab_b = await interactions.load("default", started.id)
    tab_a.set_record(record(VerificationType.PHONE_VERIFICATION_CODE, "verified-in-a"))
    await interactions.save(tab_a)
    tab_b.data.redirect_to = "/from-b"
    with pytest.raises(InteractionConflictError) as info:
        await interactions.save(tab_b)
    assert (info.value.status, info.value.code) == (409, "session.interaction_conflict")

    stored = await interactions.load("default", started.id)
    assert [r.id for r in stored.records()] == ["verified-in-a"]
    assert stored.data.redirect_to is None
    # The winner saves on from its own copy; the loser reloads and succeeds.
    tab_a.data.user_id = "u1"
    await interactions.save(tab_a)
    fresh = await interactions.load("default", started.id)
    fresh.data.redirect_to = "/from-b"
    await interactions.save(fresh)
    final = await interactions.load("default", started.id)
    assert (final.user_id, final.data.redirect_to) == ("u1", "/from-b")
    assert final.version == 4


async def test_of_concurrent_saves_from_one_version_exactly_one_wins(database: Database) -> None:
    interactions = Interactions(SqlInteractionStore(database))
    started = await interactions.start("default", InteractionEvent.SIGN_IN)
    copies = [await interactions.load("default", started.id) for _ in range(10)]
    for index, copy in enumerate(copies):
        copy.data.redirect_to = f"/{index}"
    results = await asyncio.gather(
        *(interactions.save(copy) for copy in copies), return_exceptions=True
    )
    winners = [index for index, result in enumerate(results) if result is None]
    assert len(winners) == 1
    assert all(isinstance(r, InteractionConflictError) for r in results if r is not None)
    stored = await interactions.load("default", started.id)
    assert stored.data.redirect_to == f"/{winners[0]}"


async def test_two_workers_saving_one_interaction_at_once_one_wins(
    database: Database, migrated_database: DatabaseUnderTest
) -> None:
    """Two processes (two pools) each save, in the same instant, a copy of one interaction from
    one version and another interaction of their own (so on PostgreSQL each side sends its grouped
    statement, one waiting on the other's row lock): in every round exactly one copy wins, and
    the other interactions are saved."""
    other = open_database(migrated_database.url, schema=migrated_database.schema)
    one, two = Interactions(SqlInteractionStore(database)), Interactions(SqlInteractionStore(other))
    try:
        for _ in range(15):
            shared, own_one, own_two = [
                await one.start("default", InteractionEvent.SIGN_IN) for _ in range(3)
            ]
            copy_one = await one.load("default", shared.id)
            copy_two = await two.load("default", shared.id)
            copy_one.data.redirect_to, copy_two.data.redirect_to = "/one", "/two"
            own_two = await two.load("default", own_two.id)
            results = await asyncio.gather(
                one.save(copy_one),
                one.save(own_one),
                two.save(copy_two),
                two.save(own_two),
                return_exceptions=True,
            )
            assert results[1] is None, results
            assert results[3] is None, results
            copies = [results[0], results[2]]
            assert copies.count(None) == 1, copies
            assert all(isinstance(r, InteractionConflictError) for r in copies if r is not None)
            stored = await one.load("default", shared.id)
            assert stored.data.redirect_to == ("/one" if results[0] is None else "/two")
            assert stored.version == shared.version + 1
    finally:
        await other.dispose()


async def test_saves_of_many_interactions_at_once_each_get_their_own_answer(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saves that arrive together (on PostgreSQL one statement for the lot): fresh copies of
    different interactions are saved, a stale copy is refused, and of three copies of one
    interaction from one version exactly one wins."""
    interactions = Interactions(SqlInteractionStore(database))
    started = [await interactions.start("default", InteractionEvent.SIGN_IN) for _ in range(6)]
    fresh = [await interactions.load("default", one.id) for one in started]
    stale = await interactions.load("default", started[5].id)
    await interactions.save(await interactions.load("default", started[5].id))
    racing = [await interactions.load("default", started[0].id) for _ in range(2)]
    for index, copy in enumerate([*fresh[:5], stale, *racing]):
        copy.data.redirect_to = f"/{index}"
    units = count_units(monkeypatch, database, "write")

    results = await asyncio.gather(
        *(interactions.save(copy) for copy in [*fresh[:5], stale, *racing]),
        return_exceptions=True,
    )

    assert results[1:5] == [None] * 4
    assert isinstance(results[5], InteractionConflictError)
    first_copies = [results[0], *results[6:]]
    assert first_copies.count(None) == 1
    assert all(isinstance(r, InteractionConflictError) for r in first_copies if r is not None)
    winner = [0, 6, 7][first_copies.index(None)]
    stored = [await interactions.load("default", one.id) for one in started]
    assert [one.data.redirect_to for one in stored] == [f"/{winner}", "/1", "/2", "/3", "/4", None]
    if not database.is_sqlite:  # SQLite commits the writes of a loop turn together itself
        assert len(units) < 8, "the saves went one by one"


async def test_reads_of_many_interactions_at_once_each_get_their_own(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads that arrive together (on PostgreSQL one statement for the lot): each gets its own
    interaction, of its own tenant, as last saved; one asked for twice, both; an unknown id, an
    id of another tenant and an ended interaction, none."""
    interactions = Interactions(SqlInteractionStore(database))
    started = [
        await interactions.start(tenant, InteractionEvent.SIGN_IN)
        for tenant in ("default", "default", "default", "other", "default")
    ]
    for index, one in enumerate(started):
        one.data.redirect_to = f"/{index}"
        await interactions.save(one)
    await interactions.finish(started[4])
    asked = [
        ("default", started[0].id),
        ("default", started[1].id),
        ("default", started[2].id),
        ("other", started[3].id),
        ("default", started[1].id),
        ("default", "no-such-interaction"),
        ("default", started[3].id),  # another tenant's
        ("default", started[4].id),  # ended
    ]
    units = count_units(monkeypatch, database, "read")

    results = await asyncio.gather(
        *(interactions.load(tenant, interaction_id) for tenant, interaction_id in asked),
        return_exceptions=True,
    )

    loaded = [(r.tenant_id, r.id, r.data.redirect_to) for r in results[:5]]  # type: ignore[union-attr]
    assert loaded == [
        ("default", started[0].id, "/0"),
        ("default", started[1].id, "/1"),
        ("default", started[2].id, "/2"),
        ("other", started[3].id, "/3"),
        ("default", started[1].id, "/1"),
    ]
    assert all(isinstance(r, InteractionNotFoundError) for r in results[5:])
    if not database.is_sqlite:  # SQLite reads in-process: nothing to share
        assert len(units) < 4, "the reads went one by one"


async def test_reads_together_that_fail_as_a_unit_are_each_read_alone(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shared read that fails for a reason of its own (here: refused once) is no caller's
    fault: each read is tried again alone and answered; a database in trouble fails them all."""
    interactions = Interactions(SqlInteractionStore(database))
    started = [await interactions.start("default", InteractionEvent.SIGN_IN) for _ in range(3)]
    read = database.read
    refusals = [ValueError("refused once")]

    async def refusing_once(unit: object) -> object:
        if refusals and "b_ids" in (getattr(unit, "parameters", None) or {}):
            raise refusals.pop()
        return await read(unit)  # type: ignore[arg-type]

    monkeypatch.setattr(database, "read", refusing_once)
    loaded = await asyncio.gather(*(interactions.load("default", one.id) for one in started))
    assert [one.id for one in loaded] == [one.id for one in started]

    async def unavailable(unit: object) -> object:
        raise DatabaseUnavailableError()

    monkeypatch.setattr(database, "read", unavailable)
    failed = await asyncio.gather(
        *(interactions.load("default", one.id) for one in started), return_exceptions=True
    )
    assert all(isinstance(error, DatabaseUnavailableError) for error in failed)


async def test_saving_an_ended_interaction_is_not_found(database: Database) -> None:
    interactions = Interactions(SqlInteractionStore(database))
    started = await interactions.start("default", InteractionEvent.SIGN_IN)
    copy = await interactions.load("default", started.id)
    await interactions.finish(started)
    with pytest.raises(InteractionNotFoundError):
        await interactions.save(copy)
