"""Verification codes in SQL: every write is one conditional statement, safe under concurrency."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Update, delete, or_, select, update

from phoneauth.domain.verification_codes import StoredCode
from phoneauth.storage.database import Database
from phoneauth.storage.models import VerificationCodeRow


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

    async def replace(self, code: StoredCode) -> None:
        async with self.db.sessions.begin() as session:
            await session.execute(
                delete(VerificationCodeRow).where(
                    VerificationCodeRow.tenant_id == code.tenant_id,
                    VerificationCodeRow.phone == code.phone,
                    VerificationCodeRow.usage_type == code.usage_type,
                    VerificationCodeRow.scope == code.scope,
                    VerificationCodeRow.consumed_at.is_(None),
                )
            )
            session.add(
                VerificationCodeRow(
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
            )

    async def find_live(
        self, tenant_id: str, phone: str, usage_type: str, scope: str
    ) -> StoredCode | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
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
            return None if row is None else _code(row)

    async def get(self, tenant_id: str, code_id: str) -> StoredCode | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(VerificationCodeRow).where(
                    VerificationCodeRow.tenant_id == tenant_id, VerificationCodeRow.id == code_id
                )
            )
            return None if row is None else _code(row)

    async def _changed_one_row(self, statement: Update) -> bool:
        async with self.db.sessions.begin() as session:
            result = cast(CursorResult[Any], await session.execute(statement))
            return result.rowcount == 1

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
        async with self.db.sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(VerificationCodeRow).where(
                        VerificationCodeRow.tenant_id == tenant_id,
                        or_(
                            VerificationCodeRow.expires_at < now,
                            VerificationCodeRow.consumed_at.is_not(None),
                        ),
                    )
                ),
            )
            return int(result.rowcount)
