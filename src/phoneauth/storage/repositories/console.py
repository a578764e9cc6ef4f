"""Console admins and sessions in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from phoneauth.domain.console_admins import AdminExistsError, ConsoleAdmin, ConsoleSession
from phoneauth.storage.database import Database
from phoneauth.storage.models.console import ConsoleAdminRow, ConsoleSessionRow


def _admin(row: ConsoleAdminRow) -> ConsoleAdmin:
    return ConsoleAdmin(row.id, row.username, row.password_hash, row.created_at)


class SqlConsoleAdminStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def count(self) -> int:
        async with self.db.sessions() as session:
            found = await session.scalar(select(func.count()).select_from(ConsoleAdminRow))
            return int(found or 0)

    async def create(self, admin: ConsoleAdmin) -> ConsoleAdmin:
        row = ConsoleAdminRow(
            id=admin.id,
            username=admin.username,
            password_hash=admin.password_hash,
            created_at=admin.created_at,
        )
        try:
            async with self.db.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise AdminExistsError() from None
        return admin

    async def find(self, username: str) -> ConsoleAdmin | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(ConsoleAdminRow).where(ConsoleAdminRow.username == username)
            )
            return None if row is None else _admin(row)

    async def add_session(self, console_session: ConsoleSession) -> None:
        async with self.db.sessions.begin() as session:
            session.add(
                ConsoleSessionRow(
                    token_hash=console_session.token_hash,
                    admin_id=console_session.admin_id,
                    csrf_token=console_session.csrf_token,
                    tenant_id=console_session.tenant_id,
                    created_at=console_session.created_at,
                    expires_at=console_session.expires_at,
                )
            )

    async def get_session(self, token_hash: str) -> ConsoleSession | None:
        async with self.db.sessions() as session:
            found = (
                await session.execute(
                    select(ConsoleSessionRow, ConsoleAdminRow.username)
                    .join(ConsoleAdminRow, ConsoleAdminRow.id == ConsoleSessionRow.admin_id)
                    .where(ConsoleSessionRow.token_hash == token_hash)
                )
            ).first()
        if found is None:
            return None
        row, username = found
        return ConsoleSession(
            token_hash=row.token_hash,
            admin_id=row.admin_id,
            username=username,
            csrf_token=row.csrf_token,
            tenant_id=row.tenant_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    async def set_session_tenant(self, token_hash: str, tenant_id: str) -> None:
        async with self.db.sessions.begin() as session:
            await session.execute(
                update(ConsoleSessionRow)
                .where(ConsoleSessionRow.token_hash == token_hash)
                .values(tenant_id=tenant_id)
            )

    async def delete_session(self, token_hash: str) -> None:
        async with self.db.sessions.begin() as session:
            await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash)
            )

    async def delete_sessions_before(self, moment: datetime) -> int:
        async with self.db.sessions.begin() as session:
            result = await session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= moment)
            )
            return int(getattr(result, "rowcount", 0) or 0)
