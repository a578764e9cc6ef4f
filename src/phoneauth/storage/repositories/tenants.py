"""Tenants in SQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.tenants import Tenant, TenantExistsError, TenantKind, TenantSettings
from phoneauth.storage.database import Database
from phoneauth.storage.models import TenantRow
from phoneauth.storage.versioned_cache import VersionedCache


def _tenant(row: TenantRow) -> Tenant:
    return Tenant(
        id=row.id,
        name=row.name,
        kind=TenantKind(row.kind),
        settings=TenantSettings.model_validate(row.settings or {}),
        created_at=row.created_at,
    )


class SqlTenantStore:
    def __init__(
        self, database: Database, cache: VersionedCache[str, Tenant] | None = None
    ) -> None:
        self.db = database
        self.cache = cache

    async def get(self, tenant_id: str) -> Tenant | None:
        # Every Management API request and every send looks its tenant up.
        if self.cache is None:
            return await self._get(tenant_id)
        return await self.cache.get(tenant_id, lambda: self._get(tenant_id))

    async def _get(self, tenant_id: str) -> Tenant | None:
        def unit(session: Session) -> Tenant | None:
            row = session.get(TenantRow, tenant_id)
            return None if row is None else _tenant(row)

        return await self.db.read(unit)

    async def list(self) -> list[Tenant]:
        def unit(session: Session) -> list[Tenant]:
            rows = session.scalars(select(TenantRow).order_by(TenantRow.created_at))
            return [_tenant(row) for row in rows]

        return await self.db.read(unit)

    async def create(self, tenant_id: str, name: str, kind: TenantKind) -> Tenant:
        row = TenantRow(
            id=tenant_id, name=name, kind=kind.value, settings={}, created_at=datetime.now(UTC)
        )
        tenant = _tenant(row)
        try:
            await self.db.write(lambda session: session.add(row), single_statement=True)
        except IntegrityError:
            raise TenantExistsError(tenant_id=tenant_id) from None
        return tenant

    async def save_settings(self, tenant_id: str, settings: TenantSettings) -> Tenant:
        def unit(session: Session) -> Tenant:
            row = session.get_one(TenantRow, tenant_id)
            row.settings = settings.model_dump(mode="json", by_alias=True)
            session.flush()
            return _tenant(row)

        return await self.db.write(unit)

    async def save_kind(self, tenant_id: str, kind: TenantKind) -> Tenant:
        def unit(session: Session) -> Tenant:
            row = session.get_one(TenantRow, tenant_id)
            row.kind = kind.value
            session.flush()
            return _tenant(row)

        return await self.db.write(unit)
