"""Users in SQL; unique (tenant, phone), (tenant, username) and (tenant, lower-cased email)
make a concurrent double sign-up or double create a clean error."""

from __future__ import annotations

import builtins
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.emails import email_key
from phoneauth.domain.user_search import UserSearch
from phoneauth.domain.users import (
    UPDATABLE,
    EmailInUseError,
    NewUser,
    PhoneInUseError,
    User,
    UsernameInUseError,
    UserNotFoundError,
)
from phoneauth.errors import PhoneauthError
from phoneauth.storage.database import Database, changed_rows, first_row
from phoneauth.storage.models import UserRow
from phoneauth.storage.models.base import new_id
from phoneauth.storage.prepared import Prepared
from phoneauth.storage.repositories.user_search import run_search


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
        primary_email=row.primary_email,
        name=row.name,
        avatar=row.avatar,
        custom_data=dict(row.custom_data or {}),
        is_suspended=bool(row.is_suspended),
        last_sign_in_at=row.last_sign_in_at,
        updated_at=row.updated_at,
    )


# Built once: every sign-in by code looks its number up.
_BY_PHONE = Prepared(
    select(UserRow.metadata.tables["users"]).where(
        UserRow.tenant_id == bindparam("b_tenant"), UserRow.phone == bindparam("b_phone")
    )
)


_BY_ID = Prepared(
    select(UserRow.metadata.tables["users"]).where(
        UserRow.tenant_id == bindparam("b_tenant"), UserRow.id == bindparam("b_id")
    )
)
# Every sign-in stamps its user: built per call, this UPDATE and its cache key took more CPU
# than any other step of a whole sign-in by code (11 % of the server's, `py-spy`).
_STAMP_SIGN_IN = Prepared(
    update(UserRow.metadata.tables["users"])
    .where(UserRow.tenant_id == bindparam("b_tenant"), UserRow.id == bindparam("b_id"))
    .values(last_sign_in_at=bindparam("b_at"))
)

# Which identifier a unique violation is about, by a word of its constraint or column names
# (PostgreSQL names the constraint, SQLite the columns); the email's is tested first.
_CLASHES: tuple[tuple[str, type[PhoneauthError]], ...] = (
    ("primary_email_key", EmailInUseError),
    ("username", UsernameInUseError),
    ("phone", PhoneInUseError),
)


def _clash(error: IntegrityError) -> PhoneauthError:
    text = str(error.orig)
    for word, kind in _CLASHES:
        if word in text:
            return kind()
    return PhoneInUseError()  # the only other constraint a user write can break


def _taken(
    session: Session, tenant_id: str, values: dict[str, Any], order: tuple[str, ...], own: str
) -> None:
    """Logto's collision checks in Logto's order, so of several clashes the same one is
    named; the unique constraints still decide a race between two writers."""
    checks: dict[str, tuple[Any, Any, type[PhoneauthError]]] = {
        "username": (UserRow.username, values.get("username"), UsernameInUseError),
        "primary_email": (
            UserRow.primary_email_key,
            values.get("primary_email_key"),
            EmailInUseError,
        ),
        "phone": (UserRow.phone, values.get("phone"), PhoneInUseError),
    }
    for name in order:
        column, value, error = checks[name]
        if value is None or name not in values:
            continue
        found = session.scalar(
            select(UserRow.id).where(
                UserRow.tenant_id == tenant_id, column == value, UserRow.id != own
            )
        )
        if found is not None:
            raise error()


class SqlUserStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def get(self, tenant_id: str, user_id: str) -> User | None:
        parameters = {"b_tenant": tenant_id, "b_id": user_id}
        return await self.db.read(first_row(_BY_ID, parameters, user_from_row))

    async def find_by_phone(self, tenant_id: str, phone: str) -> User | None:
        parameters = {"b_tenant": tenant_id, "b_phone": phone}
        return await self.db.read(first_row(_BY_PHONE, parameters, user_from_row))

    async def find_by_email(self, tenant_id: str, email: str) -> User | None:
        key = email_key(email)

        def unit(session: Session) -> User | None:
            row = session.scalar(
                select(UserRow).where(
                    UserRow.tenant_id == tenant_id, UserRow.primary_email_key == key
                )
            )
            return None if row is None else user_from_row(row)

        return await self.db.read(unit)

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
        email: str | None = None,
    ) -> User:
        now = datetime.now(UTC)

        def unit(session: Session) -> User:
            row = UserRow(
                id=new_id(),
                tenant_id=tenant_id,
                phone=phone,
                username=username,
                primary_email=email,
                primary_email_key=None if email is None else email_key(email),
                password_hash=password_hash,
                mfa_factors=[],
                profile={},
                custom_data={},
                is_suspended=False,
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
            if email is not None and await self.find_by_email(tenant_id, email):
                raise EmailInUseError() from None
            raise PhoneInUseError() from None

    async def add(self, tenant_id: str, new: NewUser) -> User:
        now = datetime.now(UTC)
        key = email_key(new.primary_email) if new.primary_email is not None else None
        values = {
            "username": new.username,
            "primary_email": new.primary_email,
            "primary_email_key": key,
            "phone": new.phone,
        }

        def unit(session: Session) -> User:
            _taken(session, tenant_id, values, ("username", "primary_email", "phone"), own="")
            row = UserRow(
                id=new_id(),
                tenant_id=tenant_id,
                phone=new.phone,
                username=new.username,
                primary_email=new.primary_email,
                primary_email_key=key,
                name=new.name,
                avatar=new.avatar,
                password_hash=new.password_hash,
                mfa_factors=[],
                profile=dict(new.profile),
                custom_data=dict(new.custom_data),
                is_suspended=False,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return user_from_row(row)

        try:
            return await self.db.write(unit)
        except IntegrityError as error:
            raise _clash(error) from None

    async def update(self, tenant_id: str, user_id: str, changes: dict[str, Any]) -> User:
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        values = dict(changes)
        if "primary_email" in values:
            email = values["primary_email"]
            values["primary_email_key"] = email_key(email) if email is not None else None

        def check(session: Session) -> None:
            order = ("primary_email", "phone", "username")
            _taken(session, tenant_id, values, order, own=user_id)

        return await self._update(tenant_id, user_id, before=check, **values)

    async def _update(
        self,
        tenant_id: str,
        user_id: str,
        before: Any = None,
        **values: object,
    ) -> User:
        def unit(session: Session) -> User:
            row = session.scalar(
                select(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
            )
            if row is None:
                raise UserNotFoundError(user_id=user_id)
            if before is not None:
                before(session)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = datetime.now(UTC)
            session.flush()
            return user_from_row(row)

        try:
            return await self.db.write(unit)
        except IntegrityError as error:
            raise _clash(error) from None

    async def set_phone(self, tenant_id: str, user_id: str, phone: str | None) -> User:
        return await self._update(tenant_id, user_id, phone=phone)

    async def set_password(self, tenant_id: str, user_id: str, password_hash: str) -> User:
        return await self._update(tenant_id, user_id, password_hash=password_hash)

    async def set_mfa_factors(self, tenant_id: str, user_id: str, factors: list[str]) -> User:
        return await self._update(tenant_id, user_id, mfa_factors=list(factors))

    async def set_suspended(self, tenant_id: str, user_id: str, suspended: bool) -> User:
        return await self._update(tenant_id, user_id, is_suspended=suspended)

    async def record_sign_in(self, tenant_id: str, user_id: str, at: datetime) -> None:
        parameters = {"b_tenant": tenant_id, "b_id": user_id, "b_at": at}
        await self.db.write(changed_rows(_STAMP_SIGN_IN, parameters), single_statement=True)

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

    async def search(
        self, tenant_id: str, search: UserSearch, *, offset: int, limit: int
    ) -> tuple[builtins.list[User], int]:
        def unit(session: Session) -> tuple[list[User], int]:
            rows, total = run_search(session, tenant_id, search, offset=offset, limit=limit)
            return [user_from_row(row) for row in rows], total

        return await self.db.read(unit)

    async def delete(self, tenant_id: str, user_id: str) -> bool:
        # Sessions, verification records and memberships go with the row (ON DELETE CASCADE).
        statement = delete(UserRow).where(UserRow.tenant_id == tenant_id, UserRow.id == user_id)
        return bool(await self.db.write(changed_rows(statement), single_statement=True))
