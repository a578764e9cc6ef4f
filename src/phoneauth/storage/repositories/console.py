"""Console admins, sessions and the first admin's setup token in SQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.console_admins import AdminExistsError, ConsoleAdmin, ConsoleSession
from phoneauth.domain.console_setup import InvalidSetupTokenError
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.dialects import insert_of
from phoneauth.storage.models.console import (
    ConsoleAdminRow,
    ConsoleSessionRow,
    ConsoleSetupTokenRow,
)

SETUP_TOKEN_ID = "first-admin"
"""The setup token's fixed row id: at most one token exists, and a second insert fails."""


def _admin(row: ConsoleAdminRow) -> ConsoleAdmin:
    return ConsoleAdmin(row.id, row.username, row.password_hash, row.created_at)


class SqlConsoleAdminStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def count(self) -> int:
        def unit(session: Session) -> int:
            found = session.scalar(select(func.count()).select_from(ConsoleAdminRow))
            return int(found or 0)

        return await self.db.read(unit)

    async def create_first(self, admin: ConsoleAdmin, setup_token_hash: str) -> ConsoleAdmin:
        consume = delete(ConsoleSetupTokenRow).where(
            ConsoleSetupTokenRow.id == SETUP_TOKEN_ID,
            ConsoleSetupTokenRow.token_hash == setup_token_hash,
        )

        def unit(session: Session) -> None:
            # The token's delete decides the one winner; PostgreSQL makes a racing request wait
            # on the row, then find it gone and the admin made.
            if cast(CursorResult[Any], session.execute(consume)).rowcount != 1:
                admins = session.scalar(select(func.count()).select_from(ConsoleAdminRow))
                raise AdminExistsError() if admins else InvalidSetupTokenError()
            session.add(
                ConsoleAdminRow(
                    id=admin.id,
                    username=admin.username,
                    password_hash=admin.password_hash,
                    created_at=admin.created_at,
                )
            )

        try:
            await self.db.write(unit)
        except IntegrityError:
            raise AdminExistsError() from None
        return admin

    async def setup_token_hash(self) -> str | None:
        statement = select(ConsoleSetupTokenRow.token_hash).where(
            ConsoleSetupTokenRow.id == SETUP_TOKEN_ID
        )

        def unit(session: Session) -> str | None:
            return session.scalar(statement)

        return await self.db.read(unit)

    async def add_setup_token(self, token_hash: str, created_at: datetime) -> bool:
        def unit(session: Session) -> None:
            session.add(
                ConsoleSetupTokenRow(
                    id=SETUP_TOKEN_ID, token_hash=token_hash, created_at=created_at
                )
            )

        try:
            await self.db.write(unit, single_statement=True)
        except IntegrityError:  # another process stored one first
            return False
        return True

    async def replace_setup_token(self, token_hash: str, created_at: datetime) -> None:
        insert = insert_of(self.db)
        values = {"id": SETUP_TOKEN_ID, "token_hash": token_hash, "created_at": created_at}
        statement = (
            insert(ConsoleSetupTokenRow)
            .values(values)
            .on_conflict_do_update(
                index_elements=[ConsoleSetupTokenRow.id],
                set_={"token_hash": token_hash, "created_at": created_at},
            )
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def find(self, username: str) -> ConsoleAdmin | None:
        def unit(session: Session) -> ConsoleAdmin | None:
            row = session.scalar(
                select(ConsoleAdminRow).where(ConsoleAdminRow.username == username)
            )
            return None if row is None else _admin(row)

        return await self.db.read(unit)

    async def add_session(self, console_session: ConsoleSession) -> None:
        def unit(session: Session) -> None:
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

        await self.db.write(unit, single_statement=True)

    async def get_session(self, token_hash: str) -> ConsoleSession | None:
        def unit(session: Session) -> ConsoleSession | None:
            found = session.execute(
                select(ConsoleSessionRow, ConsoleAdminRow.username)
                .join(ConsoleAdminRow, ConsoleAdminRow.id == ConsoleSessionRow.admin_id)
                .where(ConsoleSessionRow.token_hash == token_hash)
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

        return await self.db.read(unit)

    async def set_session_tenant(self, token_hash: str, tenant_id: str) -> None:
        statement = (
            update(ConsoleSessionRow)
            .where(ConsoleSessionRow.token_hash == token_hash)
            .values(tenant_id=tenant_id)
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    async def delete_session(self, token_hash: str) -> None:
        statement = delete(ConsoleSessionRow).where(ConsoleSessionRow.token_hash == token_hash)
        await self.db.write(changed_rows(statement), single_statement=True)

    async def delete_sessions_before(self, moment: datetime) -> int:
        statement = delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at <= moment)
        return await self.db.write(changed_rows(statement), single_statement=True)
