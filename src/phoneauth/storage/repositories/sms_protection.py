"""Countries' SMS suspensions in SQL, tenant-scoped.

Every send reads the tenant's suspensions, so `suspensions()` goes through a versioned cache
(the change counter's triggers watch the table, migration 0012): a suspension written by one
worker is refused by every worker at its next send, and a tenant without any costs one cached
lookup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from phoneauth.domain.sms_protection import CountrySuspension
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.dialects import PerDialect
from phoneauth.storage.models import SmsCountrySuspensionRow
from phoneauth.storage.versioned_cache import VersionedCache

_TABLE = SmsCountrySuspensionRow.metadata.tables["sms_country_suspensions"]
_LIST = select(_TABLE).where(_TABLE.c.tenant_id == bindparam("b_tenant"))
_COLUMNS = ("reason", "details", "suspended_at", "until")


def _upsert(insert: Any) -> Any:
    statement = insert(_TABLE)
    return statement.on_conflict_do_update(
        index_elements=[_TABLE.c.tenant_id, _TABLE.c.country],
        set_={name: getattr(statement.excluded, name) for name in _COLUMNS},
    )


_PUT = PerDialect(_upsert)


def _suspension(row: Any) -> CountrySuspension:
    return CountrySuspension(
        tenant_id=row.tenant_id,
        country=row.country,
        reason=row.reason,
        details=row.details,
        suspended_at=row.suspended_at,
        until=row.until,
    )


class SqlSuspensionStore:
    def __init__(
        self,
        database: Database,
        *,
        cache: VersionedCache[str, dict[str, CountrySuspension]] | None = None,
    ) -> None:
        self.db = database
        self.cache = cache

    async def suspensions(self, tenant_id: str) -> dict[str, CountrySuspension]:
        if self.cache is None:
            return await self._suspensions(tenant_id)
        found = await self.cache.get(tenant_id, lambda: self._suspensions(tenant_id))
        return {} if found is None else found

    async def _suspensions(self, tenant_id: str) -> dict[str, CountrySuspension]:
        def unit(session: Session) -> dict[str, CountrySuspension]:
            rows = session.execute(_LIST, {"b_tenant": tenant_id})
            return {row.country: _suspension(row) for row in rows}

        return await self.db.read(unit)

    async def put(self, suspension: CountrySuspension) -> None:
        statement = _PUT.of(self.db).values(
            tenant_id=suspension.tenant_id,
            country=suspension.country,
            reason=suspension.reason,
            details=suspension.details,
            suspended_at=suspension.suspended_at,
            until=suspension.until,
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def end(self, tenant_id: str, country: str, now: datetime) -> bool:
        statement = (
            update(_TABLE)
            .where(
                _TABLE.c.tenant_id == tenant_id,
                _TABLE.c.country == country,
                (_TABLE.c.until.is_(None)) | (_TABLE.c.until > now),
            )
            .values(until=now)
        )
        changed: int = await self.db.write(changed_rows(statement), single_statement=True)
        return changed > 0
