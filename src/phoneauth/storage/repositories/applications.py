"""Applications, their secrets (hashes only) and roles, in SQL."""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from phoneauth.domain.applications import (
    Application,
    ApplicationNotFoundError,
    ApplicationPage,
    ApplicationType,
    SecretNameExistsError,
    StoredSecret,
)
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.models import ApplicationRoleRow, ApplicationRow, ApplicationSecretRow

_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _could_be_stored(*texts: str) -> bool:
    """Whether a key from a path could name a row: PostgreSQL refuses NUL in text and neither
    driver encodes a lone surrogate, so such a key names nothing (404, not a database error)."""
    return not any(_UNSTORABLE.search(text) for text in texts)


def _application(row: ApplicationRow) -> Application:
    metadata = row.oidc_client_metadata or {}
    return Application(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        type=ApplicationType(row.type),
        created_at=row.created_at,
        description=row.description,
        redirect_uris=tuple(metadata.get("redirectUris", [])),
        post_logout_redirect_uris=tuple(metadata.get("postLogoutRedirectUris", [])),
        custom_client_metadata=dict(row.custom_client_metadata or {}),
        custom_data=dict(row.custom_data or {}),
        is_third_party=row.is_third_party,
    )


def _metadata(application: Application) -> dict[str, list[str]]:
    return {
        "redirectUris": list(application.redirect_uris),
        "postLogoutRedirectUris": list(application.post_logout_redirect_uris),
    }


class SqlApplicationStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def add(self, application: Application) -> None:
        row = ApplicationRow(
            id=application.id,
            tenant_id=application.tenant_id,
            name=application.name,
            description=application.description,
            type=application.type.value,
            oidc_client_metadata=_metadata(application),
            custom_client_metadata=application.custom_client_metadata,
            custom_data=application.custom_data,
            is_third_party=application.is_third_party,
            created_at=application.created_at,
        )
        await self.db.write(lambda session: session.add(row), single_statement=True)

    async def find(self, tenant_id: str, application_id: str) -> Application | None:
        if not _could_be_stored(application_id):
            return None

        def unit(session: Session) -> Application | None:
            row = session.get(ApplicationRow, application_id)
            return None if row is None or row.tenant_id != tenant_id else _application(row)

        return await self.db.read(unit)

    async def search(
        self,
        tenant_id: str,
        types: Collection[ApplicationType],
        offset: int,
        limit: int | None,
    ) -> ApplicationPage:
        def unit(session: Session) -> ApplicationPage:
            where = [ApplicationRow.tenant_id == tenant_id]
            if types:
                where.append(ApplicationRow.type.in_([t.value for t in types]))
            total = session.scalar(select(func.count()).select_from(ApplicationRow).where(*where))
            rows = session.scalars(
                select(ApplicationRow)
                .where(*where)
                .order_by(ApplicationRow.created_at.desc(), ApplicationRow.id)
                .offset(offset)
                .limit(limit)
            )
            return ApplicationPage([_application(row) for row in rows], total or 0)

        return await self.db.read(unit)

    async def update(self, application: Application) -> bool:
        statement = (
            update(ApplicationRow)
            .where(ApplicationRow.tenant_id == application.tenant_id)
            .where(ApplicationRow.id == application.id)
            .values(
                name=application.name,
                description=application.description,
                oidc_client_metadata=_metadata(application),
                custom_client_metadata=application.custom_client_metadata,
                custom_data=application.custom_data,
                is_third_party=application.is_third_party,
            )
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    async def delete(self, tenant_id: str, application_id: str) -> bool:
        if not _could_be_stored(application_id):
            return False
        statement = (
            delete(ApplicationRow)
            .where(ApplicationRow.tenant_id == tenant_id)
            .where(ApplicationRow.id == application_id)
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    async def add_secret(self, tenant_id: str, application_id: str, secret: StoredSecret) -> None:
        row = ApplicationSecretRow(
            application_id=application_id,
            name=secret.name,
            tenant_id=tenant_id,
            secret_hash=secret.secret_hash,
            preview=secret.preview,
            created_at=secret.created_at,
            expires_at=secret.expires_at,
        )
        try:
            await self.db.write(lambda session: session.add(row), single_statement=True)
        except IntegrityError:
            # The primary key (application, name), or the application went away meanwhile.
            if await self.find(tenant_id, application_id) is None:
                raise ApplicationNotFoundError() from None
            raise SecretNameExistsError(name=secret.name) from None

    async def secrets(self, tenant_id: str, application_id: str) -> list[StoredSecret]:
        def unit(session: Session) -> list[StoredSecret]:
            rows = session.scalars(
                select(ApplicationSecretRow)
                .where(ApplicationSecretRow.tenant_id == tenant_id)
                .where(ApplicationSecretRow.application_id == application_id)
                .order_by(ApplicationSecretRow.created_at)
            )
            return [
                StoredSecret(r.name, r.secret_hash, r.preview, r.created_at, r.expires_at)
                for r in rows
            ]

        return await self.db.read(unit)

    async def add_role(
        self, tenant_id: str, application_id: str, role_id: str, when: datetime
    ) -> None:
        def unit(session: Session) -> None:
            if session.get(ApplicationRoleRow, (application_id, role_id)) is None:
                session.add(
                    ApplicationRoleRow(
                        application_id=application_id,
                        role_id=role_id,
                        tenant_id=tenant_id,
                        created_at=when,
                    )
                )

        await self.db.write(unit)

    async def role_ids(self, tenant_id: str, application_id: str) -> list[str]:
        def unit(session: Session) -> list[str]:
            return list(
                session.scalars(
                    select(ApplicationRoleRow.role_id)
                    .where(ApplicationRoleRow.tenant_id == tenant_id)
                    .where(ApplicationRoleRow.application_id == application_id)
                    .order_by(ApplicationRoleRow.created_at)
                )
            )

        return await self.db.read(unit)

    async def delete_secret(self, tenant_id: str, application_id: str, name: str) -> bool:
        if not _could_be_stored(application_id, name):
            return False
        statement = (
            delete(ApplicationSecretRow)
            .where(ApplicationSecretRow.tenant_id == tenant_id)
            .where(ApplicationSecretRow.application_id == application_id)
            .where(ApplicationSecretRow.name == name)
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    async def remove_role(self, tenant_id: str, application_id: str, role_id: str) -> bool:
        if not _could_be_stored(application_id, role_id):
            return False
        statement = (
            delete(ApplicationRoleRow)
            .where(ApplicationRoleRow.tenant_id == tenant_id)
            .where(ApplicationRoleRow.application_id == application_id)
            .where(ApplicationRoleRow.role_id == role_id)
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1
