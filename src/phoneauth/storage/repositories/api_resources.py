"""API resources in SQL; one indicator per tenant, kept by the table's unique index."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.api_resources import ApiResource, IndicatorInUseError
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.models import ApiResourceRow

Rows = ApiResourceRow


def _resource(row: Rows) -> ApiResource:
    return ApiResource(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        indicator=row.indicator,
        access_token_ttl=row.access_token_ttl,
        created_at=row.created_at,
    )


class SqlApiResourceStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def add(self, resource: ApiResource) -> None:
        row = Rows(
            id=resource.id,
            tenant_id=resource.tenant_id,
            name=resource.name,
            indicator=resource.indicator,
            access_token_ttl=resource.access_token_ttl,
            created_at=resource.created_at,
        )
        try:
            await self.db.write(lambda session: session.add(row), single_statement=True)
        except IntegrityError:  # the unique (tenant_id, indicator) index: another one has it
            raise IndicatorInUseError(indicator=resource.indicator) from None

    async def find(self, tenant_id: str, resource_id: str) -> ApiResource | None:
        def unit(session: Session) -> ApiResource | None:
            row = session.get(Rows, resource_id)
            return None if row is None or row.tenant_id != tenant_id else _resource(row)

        return await self.db.read(unit)

    async def find_by_indicator(self, tenant_id: str, indicator: str) -> ApiResource | None:
        def unit(session: Session) -> ApiResource | None:
            row = session.scalar(
                select(Rows).where(Rows.tenant_id == tenant_id, Rows.indicator == indicator)
            )
            return None if row is None else _resource(row)

        return await self.db.read(unit)

    async def list(self, tenant_id: str) -> list[ApiResource]:
        def unit(session: Session) -> list[ApiResource]:
            rows = session.scalars(
                select(Rows).where(Rows.tenant_id == tenant_id).order_by(Rows.created_at, Rows.id)
            )
            return [_resource(row) for row in rows]

        return await self.db.read(unit)

    async def update(self, resource: ApiResource) -> bool:
        statement = (
            update(Rows)
            .where(Rows.tenant_id == resource.tenant_id, Rows.id == resource.id)
            .values(name=resource.name, access_token_ttl=resource.access_token_ttl)
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    async def delete(self, tenant_id: str, resource_id: str) -> bool:
        statement = delete(Rows).where(Rows.tenant_id == tenant_id, Rows.id == resource_id)
        return await self.db.write(changed_rows(statement), single_statement=True) == 1
