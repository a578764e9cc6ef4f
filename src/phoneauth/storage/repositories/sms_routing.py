"""Standby SMS connectors and routing rules in SQL, tenant-scoped.

Every send reads a tenant's routing, so `routing()` goes through a versioned cache (the change
counter's triggers watch both tables, migration 0011): a tenant without rules is cached too, as
`NO_ROUTING`, so it costs no more than that one cached lookup per send.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from phoneauth.domain.sms_router import NO_ROUTING, StoredStandby, TenantRouting
from phoneauth.domain.sms_routing import RoutingRulesError, parse_rules
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.dialects import PerDialect
from phoneauth.storage.models import SmsRoutingRow, SmsStandbyConnectorRow
from phoneauth.storage.text_guard import json_text
from phoneauth.storage.versioned_cache import VersionedCache

log = logging.getLogger("phoneauth.storage")

_STANDBY = SmsStandbyConnectorRow.metadata.tables["sms_standby_connectors"]
_RULES = SmsRoutingRow.metadata.tables["sms_routing"]
# Built once: the hot read runs these two on a cache miss.
_LIST_STANDBY = (
    select(_STANDBY)
    .where(_STANDBY.c.tenant_id == bindparam("b_tenant"))
    .order_by(_STANDBY.c.created_at, _STANDBY.c.id)
)
_DOCUMENT = select(_RULES.c.document).where(_RULES.c.tenant_id == bindparam("b_tenant"))


def _upsert(insert: Any) -> Any:
    statement = insert(_RULES)
    return statement.on_conflict_do_update(
        index_elements=[_RULES.c.tenant_id],
        set_={"document": statement.excluded.document, "updated_at": statement.excluded.updated_at},
    )


_PUT_RULES = PerDialect(_upsert)


def _standby(row: Any) -> StoredStandby:
    return StoredStandby(
        id=row.id,
        tenant_id=row.tenant_id,
        factory_id=row.connector_id,
        config_encrypted=row.config_encrypted,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _list(session: Session, tenant_id: str) -> list[StoredStandby]:
    return [_standby(row) for row in session.execute(_LIST_STANDBY, {"b_tenant": tenant_id})]


class SqlSmsRoutingStore:
    def __init__(
        self, database: Database, *, cache: VersionedCache[str, TenantRouting] | None = None
    ) -> None:
        self.db = database
        self.cache = cache

    async def routing(self, tenant_id: str) -> TenantRouting:
        if self.cache is None:
            return await self._routing(tenant_id)
        found = await self.cache.get(tenant_id, lambda: self._routing(tenant_id))
        return NO_ROUTING if found is None else found

    async def _routing(self, tenant_id: str) -> TenantRouting:
        def unit(session: Session) -> tuple[str | None, list[StoredStandby]]:
            document = session.execute(_DOCUMENT, {"b_tenant": tenant_id}).scalar()
            return document, _list(session, tenant_id) if document is not None else []

        document, standby = await self.db.read(unit)
        if document is None:
            return NO_ROUTING
        try:
            rules = parse_rules(json.loads(document), [row.id for row in standby])
        except (ValueError, RoutingRulesError) as error:
            # Written by hand or by a newer version: the tenant's sends keep working, unrouted.
            log.warning("tenant %s: routing rules not usable (%s)", tenant_id, error)
            return TenantRouting(None, tuple(standby))
        return TenantRouting(rules, tuple(standby))

    async def list_standby(self, tenant_id: str) -> list[StoredStandby]:
        return await self.db.read(lambda session: _list(session, tenant_id))

    async def add_standby(self, row: StoredStandby) -> None:
        statement = _STANDBY.insert().values(
            id=row.id,
            tenant_id=row.tenant_id,
            connector_id=row.factory_id,
            config_encrypted=row.config_encrypted,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def update_standby(
        self, tenant_id: str, connector_id: str, config_encrypted: str, now: datetime
    ) -> StoredStandby | None:
        def unit(session: Session) -> StoredStandby | None:
            session.execute(
                update(_STANDBY)
                .where(_STANDBY.c.tenant_id == tenant_id, _STANDBY.c.id == connector_id)
                .values(config_encrypted=config_encrypted, updated_at=now)
            )
            row = session.execute(
                select(_STANDBY).where(
                    _STANDBY.c.tenant_id == tenant_id, _STANDBY.c.id == connector_id
                )
            ).first()
            return None if row is None else _standby(row)

        return await self.db.write(unit)

    async def delete_standby(self, tenant_id: str, connector_id: str) -> bool:
        statement = delete(_STANDBY).where(
            _STANDBY.c.tenant_id == tenant_id, _STANDBY.c.id == connector_id
        )
        return bool(await self.db.write(changed_rows(statement), single_statement=True))

    async def rules_document(self, tenant_id: str) -> dict[str, Any] | None:
        def unit(session: Session) -> str | None:
            return session.execute(_DOCUMENT, {"b_tenant": tenant_id}).scalar()

        document = await self.db.read(unit)
        if document is None:
            return None
        loaded = json.loads(document)
        return loaded if isinstance(loaded, dict) else None

    async def put_rules(self, tenant_id: str, document: dict[str, Any], now: datetime) -> None:
        statement = _PUT_RULES.of(self.db).values(
            tenant_id=tenant_id, document=json_text(document), updated_at=now
        )
        await self.db.write(changed_rows(statement), single_statement=True)
