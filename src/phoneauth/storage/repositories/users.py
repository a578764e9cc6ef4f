"""Users in SQL; unique (tenant, phone) makes a concurrent double sign-up a clean error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.exc import IntegrityError

from phoneauth.domain.users import PhoneInUseError, User, UserNotFoundError
from phoneauth.storage.database import Database
from phoneauth.storage.models import UserRow
from phoneauth.storage.models.base import new_id


def _user(row: UserRow) -> User:
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


class SqlUserStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, tenant_id: str, user_id: str) -> User | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
            )
            return None if row is None else _user(row)

    async def find_by_phone(self, tenant_id: str, phone: str) -> User | None:
        async with self.db.sessions() as session:
            row = await session.scalar(
                select(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.phone == phone)
            )
            return None if row is None else _user(row)

    async def create(
        self, tenant_id: str, *, phone: str | None, password_hash: str | None = None
    ) -> User:
        now = datetime.now(UTC)
        row = UserRow(
            id=new_id(),
            tenant_id=tenant_id,
            phone=phone,
            password_hash=password_hash,
            mfa_factors=[],
            profile={},
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.db.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise PhoneInUseError() from None
        return _user(row)

    async def _update(self, tenant_id: str, user_id: str, **values: object) -> User:
        try:
            async with self.db.sessions.begin() as session:
                row = await session.scalar(
                    select(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
                )
                if row is None:
                    raise UserNotFoundError(user_id=user_id)
                for key, value in values.items():
                    setattr(row, key, value)
                row.updated_at = datetime.now(UTC)
        except IntegrityError:
            raise PhoneInUseError() from None
        return _user(row)

    async def set_phone(self, tenant_id: str, user_id: str, phone: str | None) -> User:
        return await self._update(tenant_id, user_id, phone=phone)

    async def set_password(self, tenant_id: str, user_id: str, password_hash: str) -> User:
        return await self._update(tenant_id, user_id, password_hash=password_hash)

    async def set_mfa_factors(self, tenant_id: str, user_id: str, factors: list[str]) -> User:
        return await self._update(tenant_id, user_id, mfa_factors=list(factors))

    async def list(self, tenant_id: str, *, offset: int = 0, limit: int = 50) -> list[User]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(UserRow)
                .where(UserRow.tenant_id == tenant_id)
                .order_by(UserRow.created_at.desc())
                .offset(offset)
                .limit(limit)
            )
            return [_user(row) for row in rows]

    async def count(self, tenant_id: str) -> int:
        async with self.db.sessions() as session:
            found = await session.scalar(
                select(func.count()).select_from(UserRow).where(UserRow.tenant_id == tenant_id)
            )
            return int(found or 0)

    async def delete(self, tenant_id: str, user_id: str) -> bool:
        # Sessions, verification records and memberships go with the row (ON DELETE CASCADE).
        async with self.db.sessions.begin() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    delete(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
                ),
            )
            return bool(result.rowcount)
