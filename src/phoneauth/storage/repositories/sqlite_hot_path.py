"""The code store and message-log writes for SQLite, in plain SQL through the group-commit writer.

Every send-code and verify request writes here; through the ORM those writes cost several times
the rest of the request (`make bench`). The tables, rows and semantics are the SQLAlchemy
stores' (each statement is the same single conditional statement, so concurrency holds as
before); only the path to the database is shorter. PostgreSQL keeps the SQLAlchemy stores.
Timestamps are written in SQLAlchemy's SQLite format, so the ORM reads these rows and the other
way round (tests check both directions).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from phoneauth.domain.message_log import MessageLogEntry, MessageLogStore
from phoneauth.domain.verification_codes import StoredCode, VerificationCodeStore
from phoneauth.storage.database import Database
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore
from phoneauth.storage.sqlite_writer import GroupCommitWriter

_SELECT_CODE = (
    "SELECT id, tenant_id, phone, usage_type, scope, code_hash, try_count, created_at, "
    "expires_at, consumed_at FROM verification_codes WHERE tenant_id = ? "
)


def sqlite_time(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text for a UTC-aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused: pass UTC-aware values")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _code(row: tuple[str, str, str, str, str, str, int, str, str, str | None]) -> StoredCode:
    return StoredCode(
        id=row[0],
        tenant_id=row[1],
        phone=row[2],
        usage_type=row[3],
        scope=row[4],
        code_hash=row[5],
        try_count=row[6],
        created_at=_time(row[7]),
        expires_at=_time(row[8]),
        consumed_at=None if row[9] is None else _time(row[9]),
    )


class SqliteVerificationCodeStore(SqlVerificationCodeStore):
    def __init__(self, database: Database, writer: GroupCommitWriter) -> None:
        super().__init__(database)
        self.writer = writer

    async def replace(self, code: StoredCode) -> None:
        row = (
            code.id,
            code.tenant_id,
            code.phone,
            code.usage_type,
            code.scope,
            code.code_hash,
            code.try_count,
            sqlite_time(code.created_at),
            sqlite_time(code.expires_at),
            None if code.consumed_at is None else sqlite_time(code.consumed_at),
        )

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "DELETE FROM verification_codes WHERE tenant_id = ? AND phone = ? "
                "AND usage_type = ? AND scope = ? AND consumed_at IS NULL",
                row[1:5],
            )
            db.execute(
                "INSERT INTO verification_codes (id, tenant_id, phone, usage_type, scope, "
                "code_hash, try_count, created_at, expires_at, consumed_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

        await self.writer.run(write)

    async def find_live(
        self, tenant_id: str, phone: str, usage_type: str, scope: str
    ) -> StoredCode | None:
        found = self.writer.read(
            lambda db: db.execute(
                _SELECT_CODE
                + "AND phone = ? AND usage_type = ? AND scope = ? AND consumed_at IS NULL "
                "ORDER BY created_at DESC, id LIMIT 1",
                (tenant_id, phone, usage_type, scope),
            ).fetchone()
        )
        return None if found is None else _code(found)

    async def get(self, tenant_id: str, code_id: str) -> StoredCode | None:
        found = self.writer.read(
            lambda db: db.execute(
                _SELECT_CODE + "AND id = ?",
                (tenant_id, code_id),
            ).fetchone()
        )
        return None if found is None else _code(found)

    async def _changed_one(self, sql: str, parameters: tuple[object, ...]) -> bool:
        changed = await self.writer.run(lambda db: db.execute(sql, parameters).rowcount)
        return bool(changed == 1)

    async def claim_attempt(self, tenant_id: str, code_id: str, max_attempts: int) -> bool:
        return await self._changed_one(
            "UPDATE verification_codes SET try_count = try_count + 1 WHERE tenant_id = ? "
            "AND id = ? AND consumed_at IS NULL AND try_count < ?",
            (tenant_id, code_id, max_attempts),
        )

    async def consume(self, tenant_id: str, code_id: str, now: datetime, max_attempts: int) -> bool:
        stamp = sqlite_time(now)
        return await self._changed_one(
            "UPDATE verification_codes SET consumed_at = ? WHERE tenant_id = ? AND id = ? "
            "AND consumed_at IS NULL AND expires_at >= ? AND try_count < ?",
            (stamp, tenant_id, code_id, stamp, max_attempts),
        )


class SqliteMessageLogStore(SqlMessageLogStore):
    """Appends through the group-commit writer; queries and pruning stay with SQLAlchemy."""

    def __init__(self, database: Database, writer: GroupCommitWriter) -> None:
        super().__init__(database)
        self.writer = writer

    async def add(self, entry: MessageLogEntry) -> None:
        row = (
            entry.id,
            entry.tenant_id,
            sqlite_time(entry.created_at),
            entry.connector_id,
            entry.factory_id,
            entry.usage_type,
            entry.phone_masked,
            entry.status.value,
            entry.provider_message_id,
            entry.error_code,
            entry.error_message,
            entry.latency_ms,
        )
        await self.writer.run(
            lambda db: db.execute(
                "INSERT INTO message_log (id, tenant_id, created_at, connector_id, factory_id, "
                "usage_type, phone_masked, status, provider_message_id, error_code, "
                "error_message, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        )


def code_and_log_stores(database: Database) -> tuple[VerificationCodeStore, MessageLogStore]:
    """Plain SQL with group commit on an SQLite file; the SQLAlchemy stores elsewhere."""
    if database.writer is not None:
        return (
            SqliteVerificationCodeStore(database, database.writer),
            SqliteMessageLogStore(database, database.writer),
        )
    return SqlVerificationCodeStore(database), SqlMessageLogStore(database)
