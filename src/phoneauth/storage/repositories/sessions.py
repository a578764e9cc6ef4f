"""Sessions and signing keys in SQL, tenant-scoped."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from phoneauth.domain.sessions import StoredKey, StoredSession
from phoneauth.storage.database import Database
from phoneauth.storage.models import SessionRow, SigningKeyRow
from phoneauth.storage.models.base import new_id


class SqlSigningKeyStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def keys(self, tenant_id: str) -> list[StoredKey]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(SigningKeyRow)
                .where(SigningKeyRow.tenant_id == tenant_id)
                .order_by(SigningKeyRow.created_at.desc())
            )
            return [
                StoredKey(
                    r.id, r.private_key_encrypted, dict(r.public_jwk), r.created_at, r.retired_at
                )
                for r in rows
            ]

    async def add(self, tenant_id: str, key: StoredKey) -> None:
        async with self.db.sessions.begin() as session:
            session.add(
                SigningKeyRow(
                    id=key.kid,
                    tenant_id=tenant_id,
                    private_key_encrypted=key.private_key_encrypted,
                    public_jwk=key.public_jwk,
                    created_at=key.created_at,
                    retired_at=key.retired_at,
                )
            )

    async def retire(self, tenant_id: str, kid: str, when: datetime) -> None:
        async with self.db.sessions.begin() as session:
            await session.execute(
                update(SigningKeyRow)
                .where(SigningKeyRow.tenant_id == tenant_id, SigningKeyRow.id == kid)
                .values(retired_at=when)
            )


class SqlSessionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(
        self, tenant_id: str, user_id: str, token_hash: str, now: datetime, expires_at: datetime
    ) -> str:
        session_id = new_id()
        async with self.db.sessions.begin() as session:
            session.add(
                SessionRow(
                    id=session_id,
                    tenant_id=tenant_id,
                    user_id=user_id,
                    token_hash=token_hash,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return session_id

    async def find(self, tenant_id: str, token_hash: str) -> StoredSession | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(SessionRow).where(
                    SessionRow.tenant_id == tenant_id, SessionRow.token_hash == token_hash
                )
            )
            return None if row is None else _session(row)

    async def get(self, tenant_id: str, session_id: str) -> StoredSession | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(SessionRow).where(
                    SessionRow.tenant_id == tenant_id, SessionRow.id == session_id
                )
            )
            return None if row is None else _session(row)

    async def revoke(self, tenant_id: str, session_id: str, when: datetime) -> None:
        async with self.db.sessions.begin() as session:
            await session.execute(
                update(SessionRow)
                .where(SessionRow.tenant_id == tenant_id, SessionRow.id == session_id)
                .values(revoked_at=when)
            )

    async def revoke_user(self, tenant_id: str, user_id: str, when: datetime) -> int:
        async with self.db.sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    update(SessionRow)
                    .where(
                        SessionRow.tenant_id == tenant_id,
                        SessionRow.user_id == user_id,
                        SessionRow.revoked_at.is_(None),
                    )
                    .values(revoked_at=when)
                ),
            )
            return int(result.rowcount)


def _session(row: SessionRow) -> StoredSession:
    return StoredSession(row.id, row.tenant_id, row.user_id, row.expires_at, row.revoked_at)
