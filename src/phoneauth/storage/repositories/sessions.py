"""Sessions and signing keys in SQL, tenant-scoped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from phoneauth.domain.sessions import StoredKey, StoredSession
from phoneauth.storage.database import Database, Rows, Statement, changed_rows
from phoneauth.storage.models import SessionRow, SigningKeyRow
from phoneauth.storage.models.base import new_id
from phoneauth.storage.prepared import Prepared

# Built once: every sign-in reads the keys and creates a session.
_KEYS = Prepared(
    select(SigningKeyRow.metadata.tables["signing_keys"])
    .where(SigningKeyRow.tenant_id == bindparam("b_tenant"))
    .order_by(SigningKeyRow.created_at.desc())
)
_NEW_SESSION = Prepared(insert(SessionRow.metadata.tables["sessions"]))


def _keys_of(result: Rows) -> list[StoredKey]:
    return [
        StoredKey(r.id, r.private_key_encrypted, dict(r.public_jwk), r.created_at, r.retired_at)
        for r in result
    ]


class SqlSigningKeyStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def keys(self, tenant_id: str) -> list[StoredKey]:
        return await self.db.read(Statement(_KEYS, {"b_tenant": tenant_id}, _keys_of))

    async def add(self, tenant_id: str, key: StoredKey) -> None:
        def unit(session: Session) -> None:
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

        await self.db.write(unit, single_statement=True)

    async def retire(self, tenant_id: str, kid: str, when: datetime) -> None:
        statement = (
            update(SigningKeyRow)
            .where(SigningKeyRow.tenant_id == tenant_id, SigningKeyRow.id == kid)
            .values(retired_at=when)
        )
        await self.db.write(changed_rows(statement), single_statement=True)


class SqlSessionStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(
        self, tenant_id: str, user_id: str, token_hash: str, now: datetime, expires_at: datetime
    ) -> str:
        session_id = new_id()
        parameters = {
            "id": session_id,
            "tenant_id": tenant_id,
            "user_id": user_id,
            "token_hash": token_hash,
            "created_at": now,
            "expires_at": expires_at,
        }
        await self.db.write(changed_rows(_NEW_SESSION, parameters), single_statement=True)
        return session_id

    async def find(self, tenant_id: str, token_hash: str) -> StoredSession | None:
        def unit(session: Session) -> StoredSession | None:
            row = session.scalar(
                select(SessionRow).where(
                    SessionRow.tenant_id == tenant_id, SessionRow.token_hash == token_hash
                )
            )
            return None if row is None else _session(row)

        return await self.db.read(unit)

    async def get(self, tenant_id: str, session_id: str) -> StoredSession | None:
        def unit(session: Session) -> StoredSession | None:
            row = session.scalar(
                select(SessionRow).where(
                    SessionRow.tenant_id == tenant_id, SessionRow.id == session_id
                )
            )
            return None if row is None else _session(row)

        return await self.db.read(unit)

    async def revoke(self, tenant_id: str, session_id: str, when: datetime) -> None:
        statement = (
            update(SessionRow)
            .where(SessionRow.tenant_id == tenant_id, SessionRow.id == session_id)
            .values(revoked_at=when)
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def revoke_user(self, tenant_id: str, user_id: str, when: datetime) -> int:
        statement = (
            update(SessionRow)
            .where(
                SessionRow.tenant_id == tenant_id,
                SessionRow.user_id == user_id,
                SessionRow.revoked_at.is_(None),
            )
            .values(revoked_at=when)
        )
        return await self.db.write(changed_rows(statement), single_statement=True)


def _session(row: SessionRow) -> StoredSession:
    return StoredSession(
        row.id, row.tenant_id, row.user_id, row.expires_at, row.revoked_at, row.created_at
    )
