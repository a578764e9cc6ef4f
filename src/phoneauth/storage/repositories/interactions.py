"""Interactions in SQL, tenant-scoped: one JSON document per interaction in progress, versioned."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    JSON,
    Integer,
    String,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)

from phoneauth.domain.interactions import StoredInteraction
from phoneauth.storage.batched_deletes import delete_in_batches
from phoneauth.storage.database import Database, Statement, changed_rows, first_row
from phoneauth.storage.grouped_reads import GroupedReads
from phoneauth.storage.grouped_saves import GroupedSaves
from phoneauth.storage.models import InteractionRow
from phoneauth.storage.prepared import Prepared
from phoneauth.storage.text_guard import json_text

# Built once: every Experience request reads its interaction, and most save it.
_TABLE = InteractionRow.metadata.tables["interactions"]
_GET = Prepared(
    select(_TABLE).where(
        InteractionRow.tenant_id == bindparam("b_tenant"), InteractionRow.id == bindparam("b_id")
    )
)
_INSERT = Prepared(insert(_TABLE))
_DELETE_ANY = delete(_TABLE).where(
    _TABLE.c.tenant_id == bindparam("b_tenant"), _TABLE.c.id == bindparam("b_id")
)
_DELETE = Prepared(_DELETE_ANY)
_DELETE_VERSION = Prepared(_DELETE_ANY.where(_TABLE.c.version == bindparam("b_version")))
_UPDATE = Prepared(
    update(_TABLE)
    .where(
        _TABLE.c.tenant_id == bindparam("b_tenant"),
        _TABLE.c.id == bindparam("b_id"),
        _TABLE.c.version == bindparam("b_version"),
    )
    .values(version=_TABLE.c.version + 1)
)
# PostgreSQL: the saves of one loop turn in one statement (`GroupedSaves`), over arrays.
_SAVES = (
    func.unnest(
        bindparam("b_tenants", type_=ARRAY(String)),
        bindparam("b_ids", type_=ARRAY(String)),
        bindparam("b_versions", type_=ARRAY(Integer)),
        bindparam("b_documents", type_=ARRAY(Text)),
    )
    .table_valued(
        column("tenant_id", String),
        column("id", String),
        column("version", Integer),
        column("document", Text),
    )
    .render_derived(name="saves")
)
# PostgreSQL: the reads of one loop turn in one statement (`GroupedReads`), over arrays of keys.
_KEYS = (
    func.unnest(
        bindparam("b_tenants", type_=ARRAY(String)), bindparam("b_ids", type_=ARRAY(String))
    )
    .table_valued(column("tenant_id", String), column("id", String))
    .render_derived(name="wanted")
)
# LATERAL with LIMIT (which keeps PostgreSQL from turning it into a join): one lookup on the
# primary key per key, whatever the planner knows of the table. A join let it hash the whole table
# while the table had never been analysed (`tests/storage/postgresql/test_grouped_plans.py`).
_FOUND = (
    select(_TABLE)
    .where(_TABLE.c.tenant_id == _KEYS.c.tenant_id, _TABLE.c.id == _KEYS.c.id)
    .limit(1)
    .lateral("found")
)
_GET_MANY = Prepared(select(_FOUND).select_from(_KEYS).join(_FOUND, true()))
# Each save finds its row by key and version in a LATERAL subquery (one primary-key lookup, as
# the reads above), then updates that row version by its ctid. A row another save changed
# meanwhile has a new ctid: re-checked after the wait for its lock, it no longer matches, so of
# two saves from one version exactly one wins, as with the version in the WHERE clause.
_EXISTING = _TABLE.alias("existing")
_MATCHED = (
    select(literal_column("existing.ctid").label("row_id"))
    .where(
        _EXISTING.c.tenant_id == _SAVES.c.tenant_id,
        _EXISTING.c.id == _SAVES.c.id,
        _EXISTING.c.version == _SAVES.c.version,
    )
    .limit(1)
    .lateral("matched")
)
_FOUND_SAVES = (
    select(_MATCHED.c.row_id, _SAVES.c.document)
    .select_from(_SAVES)
    .join(_MATCHED, true())
    .subquery("found")
)
_UPDATE_MANY = Prepared(
    update(_TABLE)
    .where(literal_column("interactions.ctid") == _FOUND_SAVES.c.row_id)
    .values(data=cast(_FOUND_SAVES.c.document, JSON), version=_TABLE.c.version + 1)
    .returning(_TABLE.c.tenant_id, _TABLE.c.id)
)


def _stored(row: Any) -> StoredInteraction:
    return StoredInteraction(
        row.id, row.tenant_id, dict(row.data or {}), row.created_at, row.expires_at, row.version
    )


def _saves_together(saves: Sequence[dict[str, Any]]) -> Statement[set[Hashable]]:
    parameters = {
        "b_tenants": [save["b_tenant"] for save in saves],
        "b_ids": [save["b_id"] for save in saves],
        "b_versions": [save["b_version"] for save in saves],
        "b_documents": [json_text(save["data"]) for save in saves],
    }
    return Statement(_UPDATE_MANY, parameters, lambda rows: {(row[0], row[1]) for row in rows})


_Key = tuple[str, str]  # (tenant id, interaction id)


def _reads_together(keys: Sequence[_Key]) -> Statement[dict[_Key, StoredInteraction]]:
    parameters = {"b_tenants": [key[0] for key in keys], "b_ids": [key[1] for key in keys]}
    return Statement(
        _GET_MANY, parameters, lambda rows: {(row.tenant_id, row.id): _stored(row) for row in rows}
    )


def _key(save: dict[str, Any]) -> Hashable:
    return (save["b_tenant"], save["b_id"])


class SqlInteractionStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        # SQLite commits the writes of a loop turn together already, and reads in-process.
        self._saves = (
            None
            if database.is_sqlite
            else GroupedSaves(database, many=_saves_together, key=_key, one=self._update_one)
        )
        self._reads: GroupedReads[_Key, StoredInteraction] | None = (
            None
            if database.is_sqlite
            else GroupedReads(database, many=_reads_together, one=self._get_one)
        )

    async def create(self, interaction: StoredInteraction) -> None:
        parameters = {
            "id": interaction.id,
            "tenant_id": interaction.tenant_id,
            "data": interaction.data,
            "version": interaction.version,
            "created_at": interaction.created_at,
            "expires_at": interaction.expires_at,
        }
        await self.db.write(changed_rows(_INSERT, parameters), single_statement=True)

    async def get(self, tenant_id: str, interaction_id: str) -> StoredInteraction | None:
        if self._reads is not None:
            return await self._reads.read((tenant_id, interaction_id))
        return await self._get_one((tenant_id, interaction_id))

    async def _get_one(self, key: _Key) -> StoredInteraction | None:
        parameters = {"b_tenant": key[0], "b_id": key[1]}
        return await self.db.read(first_row(_GET, parameters, _stored))

    async def update(
        self, tenant_id: str, interaction_id: str, data: dict[str, Any], *, expected_version: int
    ) -> bool:
        # One conditional statement: of two writers that read the same version, one matches.
        parameters = {
            "b_tenant": tenant_id,
            "b_id": interaction_id,
            "b_version": expected_version,
            "data": data,
        }
        if self._saves is not None:
            return await self._saves.save(parameters)
        return await self._update_one(parameters)

    async def _update_one(self, parameters: dict[str, Any]) -> bool:
        return bool(await self.db.write(changed_rows(_UPDATE, parameters), single_statement=True))

    async def delete(
        self, tenant_id: str, interaction_id: str, *, expected_version: int | None = None
    ) -> bool:
        parameters: dict[str, Any] = {"b_tenant": tenant_id, "b_id": interaction_id}
        query = _DELETE
        if expected_version is not None:
            query, parameters["b_version"] = _DELETE_VERSION, expected_version
        return bool(await self.db.write(changed_rows(query, parameters), single_statement=True))

    async def delete_expired(self, tenant_id: str, now: datetime) -> int:
        """In batches of `CLEANUP_BATCH`, the first expired first (the expiry index finds them),
        other requests served between batches (`between_batches`). One DELETE of a minute's
        expired interactions held SQLite's event loop, every request waiting, 35 ms at 200
        sign-ins a second (12,000 rows) and 308 ms at 1,000 (60,000); in batches no wait passes
        ~17 ms, though the whole takes longer (96 and 704 ms), waited for only by the start
        that cleans up."""
        expired = (InteractionRow.tenant_id == tenant_id, InteractionRow.expires_at <= now)
        key, order = InteractionRow.id, InteractionRow.expires_at
        return await delete_in_batches(self.db, InteractionRow, key, order, expired, CLEANUP_BATCH)


CLEANUP_BATCH = 500  # expired interactions deleted per statement
