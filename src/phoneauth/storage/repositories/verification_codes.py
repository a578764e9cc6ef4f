"""Verification codes in SQL: every write is one conditional statement, safe under concurrency."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    String,
    bindparam,
    column,
    delete,
    func,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from phoneauth.domain.verification_code_store import StoredCode
from phoneauth.storage.batched_deletes import between_batches
from phoneauth.storage.database import Database, Statement, changed_rows, first_row
from phoneauth.storage.dialects import PerDialect
from phoneauth.storage.grouped_inserts import GroupedInsert
from phoneauth.storage.grouped_reads import GroupedReads
from phoneauth.storage.models import VerificationCodeRow
from phoneauth.storage.models.base import UtcDateTime
from phoneauth.storage.prepared import Prepared

_LIVE_KEY = ["tenant_id", "phone", "usage_type", "scope"]
_REPLACED = [
    "id",
    "code_hash",
    "try_count",
    "created_at",
    "expires_at",
    "code_sealed",
    "send_count",
    "last_sent_at",
]


def _code(row: Any) -> StoredCode:
    """From a row of the table's columns (a Core row; an ORM row has the same names)."""
    return StoredCode(
        id=row.id,
        tenant_id=row.tenant_id,
        phone=row.phone,
        usage_type=row.usage_type,
        scope=row.scope,
        code_hash=row.code_hash,
        try_count=row.try_count,
        created_at=row.created_at,
        expires_at=row.expires_at,
        consumed_at=row.consumed_at,
        code_sealed=row.code_sealed,
        send_count=row.send_count,
        last_sent_at=row.last_sent_at,
    )


def _upsert(insert: Any) -> Any:
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=_LIVE_KEY,
        index_where=_TABLE.c.consumed_at.is_(None),
        set_={name: statement.excluded[name] for name in _REPLACED},
    )


# Built once: constructing these per request cost more than running them (`make bench`).
_TABLE = VerificationCodeRow.metadata.tables["verification_codes"]
_UPSERT = PerDialect(lambda insert: Prepared(_upsert(insert)))
_OF_CODE = (_TABLE.c.tenant_id == bindparam("b_tenant"), _TABLE.c.id == bindparam("b_id"))
# At most one code waits per phone, use and scope (the partial unique index
# uq_verification_codes_live): no ORDER BY, which made SQLite sort through a temporary b-tree on
# every send and verify (9 against 16 µs a lookup).
_FIND_LIVE = Prepared(
    select(_TABLE)
    .where(
        VerificationCodeRow.tenant_id == bindparam("b_tenant"),
        VerificationCodeRow.phone == bindparam("b_phone"),
        VerificationCodeRow.usage_type == bindparam("b_usage"),
        VerificationCodeRow.scope == bindparam("b_scope"),
        VerificationCodeRow.consumed_at.is_(None),
    )
    .limit(1)
)
# PostgreSQL: the lookups of one loop turn in one statement (`GroupedReads`), over arrays.
_WANTED = (
    func.unnest(*(bindparam(f"b_{name}s", type_=ARRAY(String)) for name in _LIVE_KEY))
    .table_valued(*(column(name, String) for name in _LIVE_KEY))
    .render_derived(name="wanted")
)
# LATERAL with LIMIT (which keeps PostgreSQL from turning it into a join): one lookup on the
# index of waiting codes per key, whatever the planner knows of the table. A join let it hash the
# whole table while the table had never been analysed: a tenth of the sends/s until ANALYZE
# (`tests/storage/postgresql/test_grouped_plans.py`).
_FOUND = (
    select(_TABLE)
    .where(
        *(_TABLE.c[name] == _WANTED.c[name] for name in _LIVE_KEY),
        _TABLE.c.consumed_at.is_(None),
    )
    .limit(1)
    .lateral("found")
)
_FIND_LIVE_MANY = Prepared(select(_FOUND).select_from(_WANTED).join(_FOUND, true()))
_GET = Prepared(
    select(_TABLE).where(
        VerificationCodeRow.tenant_id == bindparam("b_tenant"),
        VerificationCodeRow.id == bindparam("b_id"),
    )
)
# The WHERE clauses are re-checked on the locked row: concurrent claims cannot overshoot.
_CLAIM = Prepared(
    update(_TABLE)
    .where(
        *_OF_CODE,
        _TABLE.c.consumed_at.is_(None),
        _TABLE.c.try_count < bindparam("b_max"),
    )
    .values(try_count=_TABLE.c.try_count + 1)
)
_CONSUME = Prepared(
    update(_TABLE)
    .where(
        *_OF_CODE,
        _TABLE.c.consumed_at.is_(None),
        _TABLE.c.expires_at >= bindparam("b_now", type_=UtcDateTime()),
        _TABLE.c.try_count < bindparam("b_max"),
    )
    # The code is no longer needed in any form once used.
    .values(consumed_at=bindparam("b_now", type_=UtcDateTime()), code_sealed=None)
)
# A send claims the waiting code's slot: of racing sends within the cooldown, one row changes.
_CLAIM_SEND = Prepared(
    update(_TABLE)
    .where(
        *_OF_CODE,
        _TABLE.c.consumed_at.is_(None),
        or_(
            _TABLE.c.last_sent_at.is_(None),
            _TABLE.c.last_sent_at <= bindparam("b_before", type_=UtcDateTime()),
        ),
    )
    .values(
        last_sent_at=bindparam("b_now", type_=UtcDateTime()),
        send_count=_TABLE.c.send_count + 1,
    )
    .returning(*_TABLE.c)
)
_RESCOPE = Prepared(
    update(_TABLE)
    .where(*_OF_CODE, _TABLE.c.consumed_at.is_(None))
    .values(scope=bindparam("b_scope"), code_hash=bindparam("b_hash"))
)
_RELEASE_SEND = Prepared(
    update(_TABLE)
    .where(*_OF_CODE, _TABLE.c.last_sent_at == bindparam("b_claimed", type_=UtcDateTime()))
    .values(
        last_sent_at=bindparam("b_previous", type_=UtcDateTime()),
        send_count=_TABLE.c.send_count - 1,
    )
)


_LiveKey = tuple[str, str, str, str]  # (tenant id, phone, usage type, scope)


def _finds_together(keys: Sequence[_LiveKey]) -> Statement[dict[_LiveKey, StoredCode]]:
    parameters = {f"b_{name}s": [key[i] for key in keys] for i, name in enumerate(_LIVE_KEY)}
    return Statement(
        _FIND_LIVE_MANY,
        parameters,
        lambda rows: {(r.tenant_id, r.phone, r.usage_type, r.scope): _code(r) for r in rows},
    )


class SqlVerificationCodeStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        self._upsert = _UPSERT.of(database)
        self._replaces = GroupedInsert(database, self._upsert)
        # Every send and verify looks for the waiting code first: on PostgreSQL the lookups of
        # a loop turn share one round trip (SQLite reads in-process).
        self._finds: GroupedReads[_LiveKey, StoredCode] | None = (
            None
            if database.is_sqlite
            else GroupedReads(database, many=_finds_together, one=self._find_one)
        )

    async def replace(self, code: StoredCode) -> None:
        # One upsert on the unique index of waiting codes (migration 0005): the waiting code of
        # this phone, use and scope becomes the new one, with a fresh id and no tries. One
        # statement is atomic on its own, so concurrent sends leave exactly one waiting code.
        # The upserts of one loop turn go together (`GroupedInsert`: in order, in one unit; on
        # PostgreSQL one round trip instead of one per send, a fifth of a send's client CPU);
        # a unit that fails (a deadlock between two workers' units, say) is retried row by row.
        row = {
            "id": code.id,
            "tenant_id": code.tenant_id,
            "phone": code.phone,
            "usage_type": code.usage_type,
            "scope": code.scope,
            "code_hash": code.code_hash,
            "try_count": code.try_count,
            "created_at": code.created_at,
            "expires_at": code.expires_at,
            "consumed_at": code.consumed_at,
            "code_sealed": code.code_sealed,
            "send_count": code.send_count,
            "last_sent_at": code.last_sent_at,
        }
        await self._replaces.add(row)

    async def find_live(
        self, tenant_id: str, phone: str, usage_type: str, scope: str
    ) -> StoredCode | None:
        key = (tenant_id, phone, usage_type, scope)
        if self._finds is not None:
            return await self._finds.read(key)
        return await self._find_one(key)

    async def _find_one(self, key: _LiveKey) -> StoredCode | None:
        parameters = {"b_tenant": key[0], "b_phone": key[1], "b_usage": key[2], "b_scope": key[3]}
        return await self.db.read(first_row(_FIND_LIVE, parameters, _code))

    async def get(self, tenant_id: str, code_id: str) -> StoredCode | None:
        parameters = {"b_tenant": tenant_id, "b_id": code_id}
        return await self.db.read(first_row(_GET, parameters, _code))

    async def claim_send(
        self, tenant_id: str, code_id: str, now: datetime, sent_before: datetime
    ) -> StoredCode | None:
        parameters = {"b_tenant": tenant_id, "b_id": code_id, "b_now": now, "b_before": sent_before}
        return await self.db.write(first_row(_CLAIM_SEND, parameters, _code), single_statement=True)

    async def rescope(self, tenant_id: str, code_id: str, scope: str, code_hash: str) -> None:
        parameters = {"b_tenant": tenant_id, "b_id": code_id, "b_scope": scope, "b_hash": code_hash}
        await self.db.write(changed_rows(_RESCOPE, parameters), single_statement=True)

    async def release_send(
        self, tenant_id: str, code_id: str, claimed_at: datetime, previous: datetime | None
    ) -> None:
        parameters = {
            "b_tenant": tenant_id,
            "b_id": code_id,
            "b_claimed": claimed_at,
            "b_previous": previous,
        }
        await self.db.write(changed_rows(_RELEASE_SEND, parameters), single_statement=True)

    async def claim_attempt(self, tenant_id: str, code_id: str, max_attempts: int) -> bool:
        parameters = {"b_tenant": tenant_id, "b_id": code_id, "b_max": max_attempts}
        changed = await self.db.write(changed_rows(_CLAIM, parameters), single_statement=True)
        return changed == 1

    async def consume(self, tenant_id: str, code_id: str, now: datetime, max_attempts: int) -> bool:
        parameters = {"b_tenant": tenant_id, "b_id": code_id, "b_now": now, "b_max": max_attempts}
        changed = await self.db.write(changed_rows(_CONSUME, parameters), single_statement=True)
        return changed == 1

    async def delete_finished(self, tenant_id: str, now: datetime) -> int:
        """In batches of `PRUNE_BATCH` codes, walked along the tenant's lookup index: one
        DELETE over the tenant's codes scanned all of them at once, on SQLite on the event
        loop's thread (35 ms for 64,000 codes with none to delete, 226 ms deleting them all,
        every request waiting); no statement of a batch takes over ~10 ms, and other requests
        are served between batches (`between_batches`)."""
        deleted, after = 0, _FIRST_KEY
        while True:
            batch = await self.db.read(_next_keys(tenant_id, after))
            if batch:
                # By id alone (the batch is the tenant's): with the tenant in the condition
                # SQLite walked the tenant's whole index instead of looking the ids up.
                statement = delete(VerificationCodeRow).where(
                    VerificationCodeRow.id.in_([key[-1] for key in batch]),
                    or_(
                        VerificationCodeRow.expires_at < now,
                        VerificationCodeRow.consumed_at.is_not(None),
                    ),
                )
                deleted += await self.db.write(changed_rows(statement), single_statement=True)
            if len(batch) < PRUNE_BATCH:
                return deleted
            after = batch[-1]
            await between_batches()


PRUNE_BATCH = 1_000  # codes looked at per statement of a prune
_KEY = (
    VerificationCodeRow.phone,
    VerificationCodeRow.usage_type,
    VerificationCodeRow.scope,
    VerificationCodeRow.id,
)
_FIRST_KEY = ("", "", "", "")  # before every code: a phone is never empty
Key = tuple[str, str, str, str]


def _next_keys(tenant_id: str, after: Key) -> Callable[[Session], list[Key]]:
    """The keys of the tenant's next `PRUNE_BATCH` codes after `after`, in the order of the
    lookup index (tenant, phone, use, scope), which finds them without a sort of all codes."""
    query = (
        select(*_KEY)
        .where(VerificationCodeRow.tenant_id == tenant_id, tuple_(*_KEY) > tuple_(*after))
        .order_by(*_KEY)
        .limit(PRUNE_BATCH)
    )

    def unit(session: Session) -> list[Key]:
        return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]

    return unit
