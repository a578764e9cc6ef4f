"""Admin keys in SQL (hashes only)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from phoneauth.domain.admin_keys import AdminKey
from phoneauth.storage.database import Database
from phoneauth.storage.models import AdminKeyRow
from phoneauth.storage.models.base import new_id
from phoneauth.storage.versioned_cache import VersionedCache


def _key(row: AdminKeyRow) -> AdminKey:
    return AdminKey(id=row.id, tenant_id=row.tenant_id, name=row.name, created_at=row.created_at)


class SqlAdminKeyStore:
    def __init__(
        self, database: Database, cache: VersionedCache[str, AdminKey] | None = None
    ) -> None:
        self.db = database
        self.cache = cache

    async def create(self, tenant_id: str | None, name: str, key_hash: str) -> AdminKey:
        row = AdminKeyRow(
            id=new_id(),
            tenant_id=tenant_id,
            name=name,
            key_hash=key_hash,
            created_at=datetime.now(UTC),
        )
        key = _key(row)
        await self.db.write(lambda session: session.add(row), single_statement=True)
        return key

    async def find(self, key_hash: str) -> AdminKey | None:
        # Every Management API request authenticates; only keys that exist are cached.
        if self.cache is None:
            return await self._find(key_hash)
        return await self.cache.get(key_hash, lambda: self._find(key_hash))

    async def _find(self, key_hash: str) -> AdminKey | None:
        def unit(session: Session) -> AdminKey | None:
            row = session.scalar(select(AdminKeyRow).where(AdminKeyRow.key_hash == key_hash))
            return None if row is None else _key(row)

        return await self.db.read(unit)

    async def count(self) -> int:
        return await self.db.read(
            lambda session: int(session.scalar(select(func.count()).select_from(AdminKeyRow)) or 0)
        )
