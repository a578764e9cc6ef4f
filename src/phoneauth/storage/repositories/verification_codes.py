"""Verification codes in SQL: every write is one conditional statement, safe under concurrency."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Update, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from phoneauth.domain.verification_codes import StoredCode
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.models import VerificationCodeRow

_LIVE_KEY = ["tenant_id", "phone", "usage_type", "scope"]
_REPLACED = ["id", "code_hash", "try_count", "created_at", "expires_at"]


def _code(row: VerificationCodeRow) -> StoredCode:
    return StoredCode(
        id=row.id,
        tenant_id=row.tenant_id,
        phone=row.phone,
        usage_type=row.usage_type,
        scope=row.scope,
        code_hash=row.code_hash,
        try_count=row.try_count,
        created_at=row.created_at,
        expires_at=row.expires_at,
        consumed_at=row.consumed_at,
    )


class SqlVerificationCodeStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        self._insert: Any = sqlite.insert if database.is_sqlite else postgresql.insert

    async def replace(self, code: StoredCode) -> None:
        # One upsert on the unique index of waiting codes (migration 0005): the waiting code of
        # this phone, use and scope becomes the new one, with a fresh id and no tries. One
        # statement is atomic on its own, so concurrent sends leave exactly one waiting code.
        statement = self._insert(VerificationCodeRow).values(
            id=code.id,
            tenant_id=code.tenant_id,
            phone=code.phone,
            usage_type=code.usage_type,
            scope=code.scope,
            code_hash=code.code_hash,
            try_count=code.try_count,
            created_at=code.created_at,
            expires_at=code.expires_at,
            consumed_at=code.consumed_at,
        )
        statement = statement.on_conflict_do_update(
            index_elements=_LIVE_KEY,
            index_where=VerificationCodeRow.consumed_at.is_(None),
            set_={name: getattr(statement.excluded, name) for name in _REPLACED},
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def find_live(
        self, tenant_id: str, phone: str, usage_type: str, scope: str
    ) -> StoredCode | None:
        query = (
            select(VerificationCodeRow)
            .where(
                VerificationCodeRow.tenant_id == tenant_id,
                VerificationCodeRow.phone == phone,
                VerificationCodeRow.usage_type == usage_type,
                VerificationCodeRow.scope == scope,
                VerificationCodeRow.consumed_at.is_(None),
            )
            .order_by(VerificationCodeRow.created_at.desc(), VerificationCodeRow.id)
            .limit(1)
        )
        return await self.db.read(_one_code(query))

    async def get(self, tenant_id: str, code_id: str) -> StoredCode | None:
        query = select(VerificationCodeRow).where(
            VerificationCodeRow.tenant_id == tenant_id, VerificationCodeRow.id == code_id
        )
        return await self.db.read(_one_code(query))

    async def _changed_one_row(self, statement: Update) -> bool:
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    async def claim_attempt(self, tenant_id: str, code_id: str, max_attempts: int) -> bool:
        # The WHERE clause is re-checked on the locked row: concurrent claims cannot overshoot.
        return await self._changed_one_row(
            update(VerificationCodeRow)
            .where(
                VerificationCodeRow.tenant_id == tenant_id,
                VerificationCodeRow.id == code_id,
                VerificationCodeRow.consumed_at.is_(None),
                VerificationCodeRow.try_count < max_attempts,
            )
            .values(try_count=VerificationCodeRow.try_count + 1)
        )

    async def consume(self, tenant_id: str, code_id: str, now: datetime, max_attempts: int) -> bool:
        return await self._changed_one_row(
            update(VerificationCodeRow)
            .where(
                VerificationCodeRow.tenant_id == tenant_id,
                VerificationCodeRow.id == code_id,
                VerificationCodeRow.consumed_at.is_(None),
                VerificationCodeRow.expires_at >= now,
                VerificationCodeRow.try_count < max_attempts,
            )
            .values(consumed_at=now)
        )

    async def delete_finished(self, tenant_id: str, now: datetime) -> int:
        statement = delete(VerificationCodeRow).where(
            VerificationCodeRow.tenant_id == tenant_id,
            or_(
                VerificationCodeRow.expires_at < now,
                VerificationCodeRow.consumed_at.is_not(None),
            ),
        )
        return await self.db.write(changed_rows(statement), single_statement=True)


def _one_code(query: Any) -> Any:
    def unit(session: Session) -> StoredCode | None:
        row = session.scalar(query)
        return None if row is None else _code(row)

    return unit
