"""Account API verification records in SQL; the record itself is Logto's JSON in `data`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from phoneauth.connectors import UsageType
from phoneauth.domain.account_verifications import (
    EMAIL_CODE_RECORD,
    PASSWORD_RECORD,
    PHONE_CODE_RECORD,
    VerificationRecord,
)
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.models import VerificationRecordRow

_IDENTIFIER_TYPES = {
    PHONE_CODE_RECORD: "phone",
    EMAIL_CODE_RECORD: "email",
    PASSWORD_RECORD: "userId",
}
"""Logto's record JSON: the identifier type of each record type."""


def _data(record: VerificationRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": record.type,
        "identifier": {"type": _IDENTIFIER_TYPES[record.type], "value": record.value},
        "verified": record.verified,
    }
    if record.template_type is not None:
        data["templateType"] = record.template_type.value
    return data


def _record(row: VerificationRecordRow) -> VerificationRecord | None:
    data = row.data or {}
    kind = data.get("type")
    if kind not in _IDENTIFIER_TYPES or row.user_id is None:
        return None  # a kind of record this module does not read
    template = data.get("templateType")
    return VerificationRecord(
        id=row.id,
        tenant_id=row.tenant_id,
        user_id=row.user_id,
        value=str(data["identifier"]["value"]),
        template_type=None if template is None else UsageType(template),
        verified=bool(data.get("verified")),
        created_at=row.created_at,
        expires_at=row.expires_at,
        type=str(kind),
    )


class SqlVerificationRecordStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def insert(self, record: VerificationRecord) -> None:
        def unit(session: Session) -> None:
            session.execute(
                delete(VerificationRecordRow).where(
                    VerificationRecordRow.tenant_id == record.tenant_id,
                    VerificationRecordRow.expires_at < record.created_at,
                )
            )
            session.add(
                VerificationRecordRow(
                    id=record.id,
                    tenant_id=record.tenant_id,
                    user_id=record.user_id,
                    data=_data(record),
                    created_at=record.created_at,
                    expires_at=record.expires_at,
                )
            )

        await self.db.write(unit)

    async def get(self, tenant_id: str, record_id: str) -> VerificationRecord | None:
        def unit(session: Session) -> VerificationRecord | None:
            row = session.scalar(
                select(VerificationRecordRow).where(
                    VerificationRecordRow.tenant_id == tenant_id,
                    VerificationRecordRow.id == record_id,
                )
            )
            return None if row is None else _record(row)

        return await self.db.read(unit)

    async def mark_verified(self, tenant_id: str, record_id: str) -> None:
        # Only one caller gets here per record: the code behind it is consumed atomically.
        found = await self.get(tenant_id, record_id)
        if found is None:
            return
        data = _data(found) | {"verified": True}
        statement = (
            update(VerificationRecordRow)
            .where(
                VerificationRecordRow.tenant_id == tenant_id,
                VerificationRecordRow.id == record_id,
            )
            .values(data=data)
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def delete(self, tenant_id: str, record_id: str) -> None:
        statement = delete(VerificationRecordRow).where(
            VerificationRecordRow.tenant_id == tenant_id,
            VerificationRecordRow.id == record_id,
        )
        await self.db.write(changed_rows(statement), single_statement=True)
