"""Saved connectors in SQL: tenant-scoped, one per (tenant, type), replaced in one transaction.

The unique (tenant_id, type) constraint makes "two SMS connectors" impossible; the replace below
makes "zero" impossible, because the delete and the insert commit together. On PostgreSQL the
tenant row is locked first, so concurrent replaces of one tenant queue instead of colliding; on
SQLite the database's single writer does the same. A collision that still happens is retried.
"""

from __future__ import annotations

import asyncio
import functools
import random
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.connector_management import ConnectorConflictError, StoredConnector
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.models import ConnectorRow, TenantRow
from phoneauth.storage.models.base import new_id
from phoneauth.storage.versioned_cache import VersionedCache


def _stored(row: ConnectorRow) -> StoredConnector:
    return StoredConnector(
        id=row.id,
        tenant_id=row.tenant_id,
        type=row.type,
        factory_id=row.connector_id,
        config_encrypted=row.config_encrypted,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _one(query: Any) -> Any:
    def unit(session: Session) -> StoredConnector | None:
        row = session.scalar(query)
        return None if row is None else _stored(row)

    return unit


class SqlConnectorStore:
    def __init__(
        self,
        database: Database,
        *,
        attempts: int = 8,
        cache: VersionedCache[tuple[str, str], StoredConnector | bool] | None = None,
    ) -> None:
        self.db = database
        self.attempts = attempts
        self.cache = cache

    async def list(self, tenant_id: str) -> list[StoredConnector]:
        def unit(session: Session) -> list[StoredConnector]:
            rows = session.scalars(
                select(ConnectorRow)
                .where(ConnectorRow.tenant_id == tenant_id)
                .order_by(ConnectorRow.created_at, ConnectorRow.id)
            )
            return [_stored(row) for row in rows]

        return await self.db.read(unit)

    async def get(self, tenant_id: str, connector_id: str) -> StoredConnector | None:
        return await self.db.read(
            _one(
                select(ConnectorRow).where(
                    ConnectorRow.tenant_id == tenant_id, ConnectorRow.id == connector_id
                )
            )
        )

    async def get_by_type(self, tenant_id: str, connector_type: str) -> StoredConnector | None:
        # Every send reads the active connector, every sign-in page both; the cache empties on
        # any committed change. A tenant without one (most have no email connector) is
        # remembered too, as False: the tenant was looked up first, so such entries cannot
        # fill the cache, and a page no longer runs a query for a connector that is not there.
        if self.cache is None:
            return await self._get_by_type(tenant_id, connector_type)
        found = await self.cache.get(
            (tenant_id, connector_type), lambda: self._found_by_type(tenant_id, connector_type)
        )
        return found if isinstance(found, StoredConnector) else None

    async def _found_by_type(self, tenant_id: str, connector_type: str) -> StoredConnector | bool:
        found = await self._get_by_type(tenant_id, connector_type)
        return False if found is None else found

    async def _get_by_type(self, tenant_id: str, connector_type: str) -> StoredConnector | None:
        return await self.db.read(
            _one(
                select(ConnectorRow).where(
                    ConnectorRow.tenant_id == tenant_id, ConnectorRow.type == connector_type
                )
            )
        )

    async def replace(
        self,
        tenant_id: str,
        connector_type: str,
        factory_id: str,
        config_encrypted: str,
        *,
        now: datetime,
        connector_id: str | None = None,
    ) -> StoredConnector:
        for attempt in range(self.attempts):
            row = ConnectorRow(
                id=connector_id or new_id(),
                tenant_id=tenant_id,
                type=connector_type,
                connector_id=factory_id,
                config_encrypted=config_encrypted,
                created_at=now,
                updated_at=now,
            )
            stored = _stored(row)
            try:
                await self.db.write(functools.partial(self._replace_in, row=row))
                return stored
            except IntegrityError:
                # A concurrent replace committed first (retry: it is deleted next time), the
                # proposed id belongs to a connector we would not replace, or the tenant is gone.
                await self._explain_collision(tenant_id, connector_type, connector_id)
            await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter
        raise ConnectorConflictError(
            "Other changes to this tenant's connectors kept winning; try again."
        )

    def _replace_in(self, session: Session, row: ConnectorRow) -> None:
        if not self.db.is_sqlite:
            # Queue concurrent replaces of this tenant. (SQLite: BEGIN IMMEDIATE already holds
            # the one write lock.)
            locked = session.scalar(
                select(TenantRow.id).where(TenantRow.id == row.tenant_id).with_for_update()
            )
            if locked is None:
                raise TenantNotFoundError(tenant_id=row.tenant_id)
        session.execute(
            delete(ConnectorRow).where(
                ConnectorRow.tenant_id == row.tenant_id, ConnectorRow.type == row.type
            )
        )
        session.add(row)
        session.flush()

    async def _explain_collision(
        self, tenant_id: str, connector_type: str, connector_id: str | None
    ) -> None:
        """Raise for a collision that no retry can resolve; return for one that a retry may."""

        def unit(session: Session) -> str | None:
            if session.get(TenantRow, tenant_id) is None:
                raise TenantNotFoundError(tenant_id=tenant_id)
            if connector_id is None:
                return None
            # Ids are unique across tenants: only existence is read here, never the row.
            return session.scalar(
                select(ConnectorRow.id).where(
                    ConnectorRow.id == connector_id,
                    or_(
                        ConnectorRow.tenant_id != tenant_id,
                        ConnectorRow.type != connector_type,
                    ),
                )
            )

        taken = await self.db.read(unit)
        if taken is not None:
            raise ConnectorConflictError(
                "A connector with this id already exists.", connector_id=connector_id
            )

    async def update_config(
        self,
        tenant_id: str,
        connector_id: str,
        factory_id: str,
        config_encrypted: str,
        *,
        now: datetime,
    ) -> StoredConnector | None:
        def unit(session: Session) -> StoredConnector | None:
            result = cast(
                CursorResult[Any],
                session.execute(
                    update(ConnectorRow)
                    .where(
                        ConnectorRow.tenant_id == tenant_id,
                        ConnectorRow.id == connector_id,
                        ConnectorRow.connector_id == factory_id,
                    )
                    .values(config_encrypted=config_encrypted, updated_at=now)
                ),
            )
            if result.rowcount == 0:
                return None
            row = session.scalar(
                select(ConnectorRow).where(
                    ConnectorRow.tenant_id == tenant_id, ConnectorRow.id == connector_id
                )
            )
            return None if row is None else _stored(row)

        return await self.db.write(unit)

    async def delete(self, tenant_id: str, connector_id: str) -> bool:
        statement = delete(ConnectorRow).where(
            ConnectorRow.tenant_id == tenant_id, ConnectorRow.id == connector_id
        )
        return bool(await self.db.write(changed_rows(statement), single_statement=True))
