"""Users in SQL; unique (tenant, phone) makes a concurrent double sign-up a clean error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.users import PhoneInUseError, User, UsernameInUseError, UserNotFoundError
from phoneauth.storage.database import Database, changed_rows, first_row
from phoneauth.storage.models import UserRow
from phoneauth.storage.models.base import new_id


def user_from_row(row: Any) -> User:
    """The domain `User` of a row (an ORM row, or a Core row of the table's columns); call it
    inside the unit of work that loaded the row."""
    return User(
        id=row.id,
        tenant_id=row.tenant_id,
        phone=row.phone,
        username=row.username,
        password_hash=row.password_hash,
        created_at=row.created_at,
        mfa_factors=tuple(row.mfa_factors or ()),
        profile=dict(row.profile or {}),
    )


# Built once: every sign-in by code looks its number up.
_BY_PHONE = select(UserRow.metadata.tables["users"]).where(
    UserRow.tenant_id == bindparam("b_tenant"), UserRow.phone == bindparam("b_phone")
)


_BY_ID = select(UserRow.metadata.tables["users"]).where(
    UserRow.tenant_id == bindparam("b_tenant"), UserRow.id == bindparam("b_id")
)


class SqlUserStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, tenant_id: str, user_id: str) -> User | None:
        parameters = {"b_tenant": tenant_id, "b_id": user_id}
        return await self.db.read(first_row(_BY_ID, parameters, user_from_row))

    async def find_by_phone(self, tenant_id: str, phone: str) -> User | None:
        parameters = {"b_tenant": tenant_id, "b_phone": phone}
        return await self.db.read(first_row(_BY_PHONE, parameters, user_from_row))

    async def find_by_username(
        self, tenant_id: str, username: str, *, case_sensitive: bool = True
    ) -> User | None:
        """Exact, or `lower()` on both sides when the username policy ignores case (Logto)."""
        column = UserRow.username if case_sensitive else func.lower(UserRow.username)
        wanted = username if case_sensitive else username.lower()

        def unit(session: Session) -> User | None:
            row = session.scalar(
                select(UserRow)
                .where(UserRow.tenant_id == tenant_id, column == wanted)
                .order_by(UserRow.created_at.desc())
                .limit(1)
            )
            return None if row is None else user_from_row(row)

        return await self.db.read(unit)

    async def create(
        self,
        tenant_id: str,
        *,
        phone: str | None,
        password_hash: str | None = None,
        username: str | None = None,
    ) -> User:
        now = datetime.now(UTC)

        def unit(session: Session) -> User:
            row = UserRow(
                id=new_id(),
                tenant_id=tenant_id,
                phone=phone,
                username=username,
                password_hash=password_hash,
                mfa_factors=[],
                profile={},
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            return user_from_row(row)

        try:
            return await self.db.write(unit, single_statement=True)
        except IntegrityError:
            if username is not None and await self.find_by_username(tenant_id, username):
                raise UsernameInUseError() from None
            raise PhoneInUseError() from None

    async def _update(self, tenant_id: str, user_id: str, **values: object) -> User:
        def unit(session: Session) -> User:
            row = session.scalar(
                select(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
            )
            if row is None:
                raise UserNotFoundError(user_id=user_id)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = datetime.now(UTC)
            return user_from_row(row)

        try:
            return await self.db.write(unit)
        except IntegrityError:
            raise PhoneInUseError() from None

    async def set_phone(self, tenant_id: str, user_id: str, phone: str | None) -> User:
        return await self._update(tenant_id, user_id, phone=phone)

    async def set_password(self, tenant_id: str, user_id: str, password_hash: str) -> User:
        return await self._update(tenant_id, user_id, password_hash=password_hash)

    async def set_mfa_factors(self, tenant_id: str, user_id: str, factors: list[str]) -> User:
        return await self._update(tenant_id, user_id, mfa_factors=list(factors))

    async def list(self, tenant_id: str, *, offset: int = 0, limit: int = 50) -> list[User]:
        def unit(session: Session) -> list[User]:
            rows = session.scalars(
                select(UserRow)
                .where(UserRow.tenant_id == tenant_id)
                .order_by(UserRow.created_at.desc())
                .offset(offset)
                .limit(limit)
            )
            return [user_from_row(row) for row in rows]

        return await self.db.read(unit)

    async def count(self, tenant_id: str) -> int:
        def unit(session: Session) -> int:
            found = session.scalar(
                select(func.count()).select_from(UserRow).where(UserRow.tenant_id == tenant_id)
            )
            return int(found or 0)

        return await self.db.read(unit)

    async def delete(self, tenant_id: str, user_id: str) -> bool:
        # Sessions, verification records and memberships go with the row (ON DELETE CASCADE).
        statement = delete(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
        return bool(await self.db.write(changed_rows(statement), single_statement=True))
