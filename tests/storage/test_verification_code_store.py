"""The code store (plain SQL with group commit on SQLite, SQLAlchemy on PostgreSQL): conditional
writes, and no call reaches another tenant's rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import PHONE, make_tenant, migrated
from tests.loop_turns_support import turns_during
from tests.storage.unit_counting import count_units

from phoneauth.domain.verification_codes import StoredCode, VerificationCodeStore
from phoneauth.storage.database import Database
from phoneauth.storage.repositories import verification_codes
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(migrated_database: DatabaseUnderTest) -> AsyncIterator[Database]:
    database: Database = await migrated(migrated_database)
    await make_tenant(database, "default")
    await make_tenant(database, "other")
    yield database
    await database.dispose()


@pytest.fixture
def store(database: Database) -> VerificationCodeStore:
    return SqlVerificationCodeStore(database)


def code(code_id: str, tenant_id: str = "default", **changes: object) -> StoredCode:
    fields: dict[str, object] = {
        "id": code_id,
        "tenant_id": tenant_id,
        "phone": PHONE,
        "usage_type": "SignIn",
        "scope": "",
        "code_hash": "h" * 64,
        "try_count": 0,
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
    }
    return StoredCode(**{**fields, **changes})  # type: ignore[arg-type]


async def test_round_trip_keeps_every_field_utc_aware(store: VerificationCodeStore) -> None:
    await store.replace(code("c1", scope="flow"))
    found = await store.find_live("default", PHONE, "SignIn", "flow")
    assert found == code("c1", scope="flow")
    assert found is not None
    assert found.expires_at.tzinfo is not None


async def test_claims_stop_at_the_limit_and_after_consumption(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1"))
    assert [await store.claim_attempt("default", "c1", 2) for _ in range(3)] == [True, True, False]
    assert not await store.consume("default", "c1", NOW, 2)  # no attempt left for a right code
    assert await store.consume("default", "c1", NOW, 3)
    found = await store.get("default", "c1")
    assert found is not None
    assert (found.try_count, found.consumed_at) == (2, NOW)  # the right code used none
    assert not await store.consume("default", "c1", NOW, 10)
    assert not await store.claim_attempt("default", "c1", 10)
    assert await store.find_live("default", PHONE, "SignIn", "") is None


async def test_an_expired_code_cannot_be_consumed(store: VerificationCodeStore) -> None:
    await store.replace(code("c1"))
    assert not await store.consume("default", "c1", NOW + timedelta(minutes=10, seconds=1), 10)
    assert await store.consume("default", "c1", NOW + timedelta(minutes=10), 10)


async def test_no_call_touches_another_tenants_code(store: VerificationCodeStore) -> None:
    await store.replace(code("c1"))
    assert await store.find_live("other", PHONE, "SignIn", "") is None
    assert await store.get("other", "c1") is None
    assert not await store.claim_attempt("other", "c1", 10)
    assert not await store.consume("other", "c1", NOW, 10)
    assert await store.delete_finished("other", NOW + timedelta(days=1)) == 0
    await store.replace(code("c2", tenant_id="other"))  # replaces only the other tenant's codes
    assert await store.get("default", "c1") == code("c1")


async def test_delete_finished_keeps_live_codes(store: VerificationCodeStore) -> None:
    await store.replace(code("live", phone="+4915100000001"))
    await store.replace(code("expired", phone="+4915100000002", expires_at=NOW - timedelta(1)))
    await store.replace(code("used", phone="+4915100000003"))
    assert await store.consume("default", "used", NOW, 10)
    assert await store.delete_finished("default", NOW) == 2
    assert await store.get("default", "live") is not None


async def test_a_prune_walks_the_codes_in_batches_and_misses_none(
    store: VerificationCodeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 3 over 11 codes (same phone, several uses and scopes, another tenant's
    between): every finished code of the tenant goes, every other stays; the event loop serves
    other work between batches."""
    monkeypatch.setattr(verification_codes, "PRUNE_BATCH", 3)
    finished, live = [], []
    for n in range(10):
        expired = n % 3 != 0
        row = code(
            f"c{n}",
            phone=f"+49151000000{n % 4}",
            usage_type=("SignIn", "Register")[n % 2],
            scope=f"s{n}",
            expires_at=NOW - timedelta(1) if expired else NOW + timedelta(1),
        )
        await store.replace(row)
        (finished if expired else live).append(row.id)
    await store.replace(code("theirs", tenant_id="other", expires_at=NOW - timedelta(1)))
    deleted, turns = await turns_during(store.delete_finished("default", NOW))
    assert deleted == len(finished)
    assert turns >= 3  # requests are served between the 4 batches, not after all of them
    assert [await store.get("default", i) for i in finished] == [None] * len(finished)
    assert None not in [await store.get("default", i) for i in live]
    assert await store.get("other", "theirs") is not None


async def test_a_new_code_takes_the_place_of_the_waiting_one(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("first"))
    assert await store.claim_attempt("default", "first", 10)
    await store.replace(code("second", code_hash="g" * 64, created_at=NOW + timedelta(1)))
    live = await store.find_live("default", PHONE, "SignIn", "")
    assert live == code("second", code_hash="g" * 64, created_at=NOW + timedelta(1))
    assert await store.get("default", "first") is None
    # A consumed code is history: it never blocks or is replaced by a new one.
    assert await store.consume("default", "second", NOW, 10)
    await store.replace(code("third"))
    assert await store.get("default", "second") is not None
    assert (await store.find_live("default", PHONE, "SignIn", "")) == code("third")


async def test_concurrent_sends_leave_exactly_one_waiting_code(
    store: VerificationCodeStore,
) -> None:
    await asyncio.gather(*(store.replace(code(f"c{n}")) for n in range(50)))
    live = await store.find_live("default", PHONE, "SignIn", "")
    assert live is not None
    assert await store.delete_finished("default", NOW + timedelta(hours=1)) == 1
    assert await store.find_live("default", PHONE, "SignIn", "") is None


# --- resends (issue 16): the sealed code, the send count and the send slot ----------------------


async def test_the_resend_fields_round_trip_and_a_new_code_resets_them(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1", code_sealed="sealed-1", send_count=3, last_sent_at=NOW))
    assert await store.find_live("default", PHONE, "SignIn", "") == code(
        "c1", code_sealed="sealed-1", send_count=3, last_sent_at=NOW
    )
    later = NOW + timedelta(minutes=1)
    await store.replace(code("c2", created_at=later, last_sent_at=later))  # the upsert
    found = await store.find_live("default", PHONE, "SignIn", "")
    assert found == code("c2", created_at=later, last_sent_at=later)
    assert (found.code_sealed, found.send_count) == (None, 1)


async def test_racing_claims_within_the_cooldown_give_the_slot_to_one(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1", code_sealed="sealed", last_sent_at=NOW))
    cooldown = timedelta(seconds=60)
    early = NOW + timedelta(seconds=30)
    assert await store.claim_send("default", "c1", early, early - cooldown) is None
    at = NOW + timedelta(seconds=60)
    won = await asyncio.gather(*(store.claim_send("default", "c1", at, NOW) for _ in range(5)))
    claimed = [row for row in won if row is not None]
    assert len(claimed) == 1  # the others see last_sent_at = at, after the cut-off
    assert (claimed[0].send_count, claimed[0].last_sent_at) == (2, at)
    assert claimed[0].code_sealed == "sealed"  # what the resend sends again
    assert await store.claim_send("other", "c1", at + timedelta(hours=1), at) is None


async def test_a_released_claim_restores_the_slot_unless_another_send_took_it(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1", last_sent_at=NOW))
    at = NOW + timedelta(seconds=90)
    assert await store.claim_send("default", "c1", at, at - timedelta(seconds=60)) is not None
    await store.release_send("default", "c1", at, NOW)
    found = await store.get("default", "c1")
    assert found is not None
    assert (found.send_count, found.last_sent_at) == (1, NOW)
    # Another send's claim since then is not undone.
    later = at + timedelta(seconds=5)
    assert await store.claim_send("default", "c1", later, later) is not None
    await store.release_send("default", "c1", at, NOW)
    found = await store.get("default", "c1")
    assert found is not None
    assert (found.send_count, found.last_sent_at) == (2, later)


async def test_a_consumed_code_loses_its_sealed_copy_and_its_slot(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1", code_sealed="sealed"))  # never sent: last_sent_at NULL
    assert await store.consume("default", "c1", NOW, 10)
    found = await store.get("default", "c1")
    assert found is not None
    assert found.code_sealed is None
    assert await store.claim_send("default", "c1", NOW, NOW) is None


async def test_a_code_moves_to_another_scope_with_its_hash_until_consumed(
    store: VerificationCodeStore,
) -> None:
    await store.replace(code("c1", scope="r1"))
    await store.rescope("other", "c1", "r2", "x" * 64)  # another tenant's call changes nothing
    await store.rescope("default", "c1", "r2", "x" * 64)
    assert await store.find_live("default", PHONE, "SignIn", "r1") is None
    assert await store.find_live("default", PHONE, "SignIn", "r2") == code(
        "c1", scope="r2", code_hash="x" * 64
    )
    assert await store.consume("default", "c1", NOW, 10)
    await store.rescope("default", "c1", "r3", "y" * 64)
    found = await store.get("default", "c1")
    assert found is not None
    assert (found.scope, found.code_hash) == ("r2", "x" * 64)


# --- lookups that arrive together (on PostgreSQL one statement for a loop turn) ----------------


async def test_lookups_at_once_each_find_their_own_waiting_code(
    database: Database, store: VerificationCodeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each lookup of a turn gets the waiting code of its own tenant, phone, use and scope;
    one asked twice, both; none for a consumed code, another tenant's, or a key without one."""
    other_phone = "+4915199999999"
    await store.replace(code("a"))
    await store.replace(code("b", usage_type="Register"))
    await store.replace(code("c", scope="flow"))
    await store.replace(code("d", tenant_id="other"))
    await store.replace(code("e", phone=other_phone))
    await store.replace(code("f", phone=other_phone, usage_type="ForgotPassword"))
    assert await store.consume("default", "f", NOW, 10)
    asked = [
        ("default", PHONE, "SignIn", ""),
        ("default", PHONE, "Register", ""),
        ("default", PHONE, "SignIn", "flow"),
        ("other", PHONE, "SignIn", ""),
        ("default", other_phone, "SignIn", ""),
        ("default", PHONE, "SignIn", ""),
        ("default", other_phone, "ForgotPassword", ""),  # consumed
        ("other", other_phone, "SignIn", ""),  # another tenant's phone
        ("default", PHONE, "SignIn", "elsewhere"),
    ]
    units = count_units(monkeypatch, database, "read")

    found = await asyncio.gather(*(store.find_live(*key) for key in asked))

    assert [None if one is None else one.id for one in found] == [
        "a", "b", "c", "d", "e", "a", None, None, None
    ]  # fmt: skip
    assert found[2] == code("c", scope="flow")
    if not database.is_sqlite:  # SQLite reads in-process: nothing to share
        assert len(units) < 4, "the lookups went one by one"
