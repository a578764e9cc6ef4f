"""Interactions in SQL, tenant-scoped: one JSON document per interaction in progress, versioned."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update

from phoneauth.domain.interactions import StoredInteraction
from phoneauth.storage.database import Database
from phoneauth.storage.models import InteractionRow


class SqlInteractionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(self, interaction: StoredInteraction) -> None:
        async with self.db.sessions.begin() as session:
            session.add(
                InteractionRow(
                    id=interaction.id,
                    tenant_id=interaction.tenant_id,
                    data=interaction.data,
                    version=interaction.version,
                    created_at=interaction.created_at,
                    expires_at=interaction.expires_at,
                )
            )

    async def get(self, tenant_id: str, interaction_id: str) -> StoredInteraction | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(InteractionRow).where(
                    InteractionRow.tenant_id == tenant_id, InteractionRow.id == interaction_id
                )
            )
            if row is None:
                return None
            return StoredInteraction(
                row.id,
                row.tenant_id,
                dict(row.data or {}),
                row.created_at,
                row.expires_at,
                row.version,
            )

    async def update(
        self, tenant_id: str, interaction_id: str, data: dict[str, Any], *, expected_version: int
    ) -> bool:
        # One conditional statement: of two writers that read the same version, one matches.
        async with self.db.sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    update(InteractionRow)
                    .where(
                        InteractionRow.tenant_id == tenant_id,
                        InteractionRow.id == interaction_id,
                        InteractionRow.version == expected_version,
                    )
                    .values(data=data, version=InteractionRow.version + 1)
                ),
            )
            return bool(result.rowcount)

    async def delete(
        self, tenant_id: str, interaction_id: str, *, expected_version: int | None = None
    ) -> bool:
        query = delete(InteractionRow).where(
            InteractionRow.tenant_id == tenant_id, InteractionRow.id == interaction_id
        )
        if expected_version is not None:
            query = query.where(InteractionRow.version == expected_version)
        async with self.db.sessions.begin() as session:
            result = cast(CursorResult[Any], await session.execute(query))
            return bool(result.rowcount)

    async def delete_expired(self, tenant_id: str, now: datetime) -> int:
        async with self.db.sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(InteractionRow).where(
                        InteractionRow.tenant_id == tenant_id, InteractionRow.expires_at <= now
                    )
                ),
            )
            return int(result.rowcount)
