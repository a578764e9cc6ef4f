"""Interactions in SQL, tenant-scoped: one JSON document per interaction in progress, versioned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from phoneauth.domain.interactions import StoredInteraction
from phoneauth.storage.database import Database, changed_rows, first_row
from phoneauth.storage.models import InteractionRow
from phoneauth.storage.prepared import Prepared

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


def _stored(row: Any) -> StoredInteraction:
    return StoredInteraction(
        row.id, row.tenant_id, dict(row.data or {}), row.created_at, row.expires_at, row.version
    )


class SqlInteractionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

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
        parameters = {"b_tenant": tenant_id, "b_id": interaction_id}
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
        query = delete(InteractionRow).where(
            InteractionRow.tenant_id == tenant_id, InteractionRow.expires_at <= now
        )
        return await self.db.write(changed_rows(query), single_statement=True)
