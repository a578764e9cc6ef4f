"""Organizations, members and invitations in SQL, tenant-scoped; acceptance is one transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, delete, func, select, update
from sqlalchemy.orm import Session

from phoneauth.domain.organizations import Invitation, InvitationStatus, Organization, Page
from phoneauth.domain.users import User
from phoneauth.storage.database import Database, changed_rows
from phoneauth.storage.dialects import insert_of
from phoneauth.storage.models import (
    OrganizationInvitationRow,
    OrganizationMemberRow,
    OrganizationRow,
    UserRow,
)
from phoneauth.storage.repositories.users import user_from_row


def _organization(row: OrganizationRow) -> Organization:
    return Organization(row.id, row.tenant_id, row.name, row.description, row.created_at)


def _invitation(row: OrganizationInvitationRow) -> Invitation:
    return Invitation(
        id=row.id,
        tenant_id=row.tenant_id,
        organization_id=row.organization_id,
        phone=row.phone,
        status=InvitationStatus(row.status),
        accepted_user_id=row.accepted_user_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
    )


class SqlOrganizationStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def _count(self, query: Select[Any]) -> int:
        def unit(session: Session) -> int:
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            return int(total or 0)

        return await self.db.read(unit)

    # --- organizations ------------------------------------------------------------------------

    async def create(self, organization: Organization) -> None:
        def unit(session: Session) -> None:
            session.add(
                OrganizationRow(
                    id=organization.id,
                    tenant_id=organization.tenant_id,
                    name=organization.name,
                    description=organization.description,
                    created_at=organization.created_at,
                )
            )

        await self.db.write(unit, single_statement=True)

    async def get(self, tenant_id: str, organization_id: str) -> Organization | None:
        def unit(session: Session) -> Organization | None:
            row = session.scalar(
                select(OrganizationRow).where(
                    OrganizationRow.tenant_id == tenant_id, OrganizationRow.id == organization_id
                )
            )
            return None if row is None else _organization(row)

        return await self.db.read(unit)

    async def list_organizations(
        self, tenant_id: str, *, offset: int, limit: int
    ) -> Page[Organization]:
        query = select(OrganizationRow).where(OrganizationRow.tenant_id == tenant_id)

        def unit(session: Session) -> list[Organization]:
            rows = session.scalars(
                query.order_by(OrganizationRow.created_at.desc(), OrganizationRow.id)
                .offset(offset)
                .limit(limit)
            )
            return [_organization(row) for row in rows]

        items = await self.db.read(unit)
        return Page(items, await self._count(query))

    # --- members ------------------------------------------------------------------------------

    async def members(
        self, tenant_id: str, organization_id: str, *, offset: int, limit: int
    ) -> Page[User]:
        query = (
            select(UserRow)
            .join(OrganizationMemberRow, OrganizationMemberRow.user_id == UserRow.id)
            .where(
                OrganizationMemberRow.tenant_id == tenant_id,
                OrganizationMemberRow.organization_id == organization_id,
                UserRow.tenant_id == tenant_id,
            )
        )

        def unit(session: Session) -> list[User]:
            rows = session.scalars(
                query.order_by(OrganizationMemberRow.created_at, UserRow.id)
                .offset(offset)
                .limit(limit)
            )
            return [user_from_row(row) for row in rows]

        items = await self.db.read(unit)
        return Page(items, await self._count(query))

    async def is_member(self, tenant_id: str, organization_id: str, user_id: str) -> bool:
        def unit(session: Session) -> bool:
            found = session.scalar(
                select(OrganizationMemberRow.user_id).where(
                    OrganizationMemberRow.tenant_id == tenant_id,
                    OrganizationMemberRow.organization_id == organization_id,
                    OrganizationMemberRow.user_id == user_id,
                )
            )
            return found is not None

        return await self.db.read(unit)

    # --- invitations --------------------------------------------------------------------------

    async def add_invitation(self, invitation: Invitation) -> None:
        def unit(session: Session) -> None:
            session.add(
                OrganizationInvitationRow(
                    id=invitation.id,
                    tenant_id=invitation.tenant_id,
                    organization_id=invitation.organization_id,
                    phone=invitation.phone,
                    status=invitation.status.value,
                    accepted_user_id=invitation.accepted_user_id,
                    created_at=invitation.created_at,
                    updated_at=invitation.updated_at,
                    expires_at=invitation.expires_at,
                )
            )

        await self.db.write(unit, single_statement=True)

    async def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation | None:
        def unit(session: Session) -> Invitation | None:
            row = session.scalar(
                select(OrganizationInvitationRow).where(
                    OrganizationInvitationRow.tenant_id == tenant_id,
                    OrganizationInvitationRow.id == invitation_id,
                )
            )
            return None if row is None else _invitation(row)

        return await self.db.read(unit)

    async def list_invitations(
        self, tenant_id: str, *, organization_id: str | None, phone: str | None
    ) -> list[Invitation]:
        query = select(OrganizationInvitationRow).where(
            OrganizationInvitationRow.tenant_id == tenant_id
        )
        if organization_id is not None:
            query = query.where(OrganizationInvitationRow.organization_id == organization_id)
        if phone is not None:
            query = query.where(OrganizationInvitationRow.phone == phone)

        def unit(session: Session) -> list[Invitation]:
            rows = session.scalars(
                query.order_by(
                    OrganizationInvitationRow.created_at.desc(), OrganizationInvitationRow.id
                )
            )
            return [_invitation(row) for row in rows]

        return await self.db.read(unit)

    async def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        statement = delete(OrganizationInvitationRow).where(
            OrganizationInvitationRow.tenant_id == tenant_id,
            OrganizationInvitationRow.id == invitation_id,
        )
        await self.db.write(changed_rows(statement), single_statement=True)

    def _pending(self, tenant_id: str, invitation_id: str) -> Any:
        return update(OrganizationInvitationRow).where(
            OrganizationInvitationRow.tenant_id == tenant_id,
            OrganizationInvitationRow.id == invitation_id,
            OrganizationInvitationRow.status == InvitationStatus.PENDING.value,
        )

    async def revoke_invitation(self, tenant_id: str, invitation_id: str, now: datetime) -> bool:
        statement = self._pending(tenant_id, invitation_id).values(
            status=InvitationStatus.REVOKED.value, updated_at=now
        )
        return await self.db.write(changed_rows(statement), single_statement=True) == 1

    async def accept_invitation(
        self, tenant_id: str, invitation_id: str, user_id: str, now: datetime
    ) -> bool:
        accept = (
            self._pending(tenant_id, invitation_id)
            .where(OrganizationInvitationRow.expires_at > now)
            .values(
                status=InvitationStatus.ACCEPTED.value,
                accepted_user_id=user_id,
                updated_at=now,
            )
        )
        insert = insert_of(self.db)

        def unit(session: Session) -> bool:
            # The conditional update decides the one winner; the loser changes nothing.
            result = cast(CursorResult[Any], session.execute(accept))
            if result.rowcount != 1:
                return False
            organization_id = session.scalar(
                select(OrganizationInvitationRow.organization_id).where(
                    OrganizationInvitationRow.tenant_id == tenant_id,
                    OrganizationInvitationRow.id == invitation_id,
                )
            )
            # Already a member (say, through another invitation): membership is kept as it is.
            session.execute(
                insert(OrganizationMemberRow)
                .values(
                    organization_id=organization_id,
                    user_id=user_id,
                    tenant_id=tenant_id,
                    created_at=now,
                )
                .on_conflict_do_nothing()
            )
            return True

        return await self.db.write(unit)
