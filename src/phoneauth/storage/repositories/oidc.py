"""The provider's state in SQL: waiting authorization requests, codes and refresh tokens (hashes).

"Use once" is one conditional UPDATE (`... WHERE used_at IS NULL`): of two requests presenting
the same code or refresh token at once, exactly one changes the row, on either database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session

from phoneauth.domain.oidc.records import AuthorizationRequest, IssuedCode, IssuedRefreshToken
from phoneauth.storage.batched_deletes import delete_in_batches
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.models import (
    OidcAuthorizationCodeRow,
    OidcAuthorizationRequestRow,
    OidcRefreshTokenRow,
)

CODE_KEPT_AFTER_EXPIRY = timedelta(days=1)

Codes = OidcAuthorizationCodeRow
Tokens = OidcRefreshTokenRow
Requests = OidcAuthorizationRequestRow


def _code(row: Codes) -> IssuedCode:
    return IssuedCode(
        code_hash=row.code_hash,
        tenant_id=row.tenant_id,
        application_id=row.application_id,
        user_id=row.user_id,
        session_id=row.session_id,
        family_id=row.family_id,
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        details=dict(row.details or {}),
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


def _token(row: Tokens) -> IssuedRefreshToken:
    return IssuedRefreshToken(
        token_hash=row.token_hash,
        tenant_id=row.tenant_id,
        application_id=row.application_id,
        user_id=row.user_id,
        session_id=row.session_id,
        family_id=row.family_id,
        auth_time=row.auth_time,
        created_at=row.created_at,
        expires_at=row.expires_at,
        details=dict(row.details or {}),
        used_at=row.used_at,
        revoked_at=row.revoked_at,
    )


class SqlOidcStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    # waiting authorization requests

    async def add_request(self, request: AuthorizationRequest) -> None:
        row = Requests(
            uid=request.uid,
            tenant_id=request.tenant_id,
            application_id=request.application_id,
            parameters=request.parameters,
            created_at=request.created_at,
            expires_at=request.expires_at,
        )
        await self.db.write(lambda session: session.add(row), single_statement=True)

    async def find_request(self, tenant_id: str, uid: str) -> AuthorizationRequest | None:
        def unit(session: Session) -> AuthorizationRequest | None:
            row = session.get(Requests, uid)
            if row is None or row.tenant_id != tenant_id:
                return None
            return AuthorizationRequest(
                row.uid,
                row.tenant_id,
                row.application_id,
                dict(row.parameters or {}),
                row.created_at,
                row.expires_at,
            )

        return await self.db.read(unit)

    async def delete_request(self, tenant_id: str, uid: str) -> None:
        statement = delete(Requests).where(Requests.tenant_id == tenant_id, Requests.uid == uid)
        await self.db.write(changed_rows(statement), single_statement=True)

    # codes

    async def add_code(self, code: IssuedCode) -> None:
        row = Codes(
            code_hash=code.code_hash,
            tenant_id=code.tenant_id,
            application_id=code.application_id,
            user_id=code.user_id,
            session_id=code.session_id,
            family_id=code.family_id,
            details=code.details,
            auth_time=code.auth_time,
            created_at=code.created_at,
            expires_at=code.expires_at,
        )
        await self.db.write(lambda session: session.add(row), single_statement=True)

    async def find_code(self, tenant_id: str, code_hash: str) -> IssuedCode | None:
        def unit(session: Session) -> IssuedCode | None:
            row = session.get(Codes, code_hash)
            return None if row is None or row.tenant_id != tenant_id else _code(row)

        return await self.db.read(unit)

    async def use_code(self, tenant_id: str, code_hash: str, when: datetime) -> bool:
        statement = (
            update(Codes)
            .where(Codes.tenant_id == tenant_id, Codes.code_hash == code_hash)
            .where(Codes.used_at.is_(None), Codes.revoked_at.is_(None))
            .values(used_at=when)
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    # refresh tokens

    async def add_refresh_token(self, token: IssuedRefreshToken) -> None:
        row = Tokens(
            token_hash=token.token_hash,
            tenant_id=token.tenant_id,
            application_id=token.application_id,
            user_id=token.user_id,
            session_id=token.session_id,
            family_id=token.family_id,
            details=token.details,
            auth_time=token.auth_time,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
        await self.db.write(lambda session: session.add(row), single_statement=True)

    async def find_refresh_token(
        self, tenant_id: str, token_hash: str
    ) -> IssuedRefreshToken | None:
        def unit(session: Session) -> IssuedRefreshToken | None:
            row = session.get(Tokens, token_hash)
            return None if row is None or row.tenant_id != tenant_id else _token(row)

        return await self.db.read(unit)

    async def use_refresh_token(self, tenant_id: str, token_hash: str, when: datetime) -> bool:
        statement = (
            update(Tokens)
            .where(Tokens.tenant_id == tenant_id, Tokens.token_hash == token_hash)
            .where(Tokens.used_at.is_(None), Tokens.revoked_at.is_(None))
            .values(used_at=when)
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    # revocation

    async def revoke_family(self, tenant_id: str, family_id: str, when: datetime) -> None:
        def unit(session: Session) -> None:
            session.execute(
                update(Codes)
                .where(Codes.tenant_id == tenant_id, Codes.family_id == family_id)
                .where(Codes.revoked_at.is_(None))
                .values(revoked_at=when)
            )
            session.execute(
                update(Tokens)
                .where(Tokens.tenant_id == tenant_id, Tokens.family_id == family_id)
                .where(Tokens.revoked_at.is_(None))
                .values(revoked_at=when)
            )

        await self.db.write(unit)

    async def family_revoked(self, tenant_id: str, family_id: str) -> bool:
        def unit(session: Session) -> bool:
            found = session.scalar(
                select(Codes.code_hash)
                .where(Codes.tenant_id == tenant_id, Codes.family_id == family_id)
                .where(Codes.revoked_at.is_not(None))
                .limit(1)
            )
            return found is not None

        return await self.db.read(unit)

    async def revoke_session(self, tenant_id: str, session_id: str, when: datetime) -> None:
        def unit(session: Session) -> None:
            families = select(Codes.family_id).where(
                Codes.tenant_id == tenant_id, Codes.session_id == session_id
            )
            session.execute(
                update(Codes)
                .where(Codes.tenant_id == tenant_id, Codes.family_id.in_(families))
                .where(Codes.revoked_at.is_(None))
                .values(revoked_at=when)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(Tokens)
                .where(Tokens.tenant_id == tenant_id, Tokens.session_id == session_id)
                .where(Tokens.revoked_at.is_(None))
                .values(revoked_at=when)
            )

        await self.db.write(unit)

    async def delete_expired(self, now: datetime) -> int:
        """Waiting requests past their hour; refresh tokens past their lifetime (a rotated one is
        kept until then, so its replay is still recognised); codes a day after expiry once no
        refresh token of their grant is left (the code row carries the grant's revocation).

        In batches of `PRUNE_BATCH` rows, the first expired first, other requests served
        between them (`between_batches`): one transaction over an hour's expired rows held
        SQLite's event loop for all of them. Tokens go before codes, whose deletion looks for
        tokens left."""
        grace = now - CODE_KEPT_AFTER_EXPIRY
        family_alive = select(Tokens.token_hash).where(Tokens.family_id == Codes.family_id).exists()
        kinds: tuple[tuple[type[Any], Any, Any, tuple[ColumnElement[bool], ...]], ...] = (
            (Requests, Requests.uid, Requests.expires_at, (Requests.expires_at < now,)),
            (Tokens, Tokens.token_hash, Tokens.expires_at, (Tokens.expires_at < now,)),
            (Codes, Codes.code_hash, Codes.expires_at, (Codes.expires_at < grace, ~family_alive)),
        )
        deleted = 0
        for table, key, expires_at, expired in kinds:
            deleted += await delete_in_batches(
                self.db, table, key, expires_at, expired, PRUNE_BATCH
            )
        return deleted


PRUNE_BATCH = 1_000  # expired rows deleted per statement of a prune
