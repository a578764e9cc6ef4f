"""Organizations, their members, and invitations by phone number (Logto invites by email only).

An admin invites a phone number; the invitee gets an SMS with the `OrganizationInvitation`
template and a code bound to the invitation. Whoever presents that code owns the number: the
user with that number is found (or created) and becomes a member. Statuses follow Logto's
RFC 0003: Pending, then exactly one of Accepted, Revoked or Expired. Expiry is computed when
read, so a pending row past its `expiresAt` reads `Expired` without any background job.

The SMS carries the code and the acceptance page's URL (template variable `link`). A code lives
minutes, an invitation days: the invitee may ask for a new code (`resend(..., quiet=True)`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from phoneauth.connectors import UsageType
from phoneauth.domain.phone_numbers import parse_phone
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.users import PhoneInUseError, User, UserStore, UserSuspendedError
from phoneauth.domain.verification_codes import VerificationCodes, utc_now
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

T = TypeVar("T")

log = logging.getLogger("phoneauth.organizations")

DEFAULT_INVITATION_TTL = timedelta(days=7)
"""When the admin gives no `expiresAt` (Logto's console offers seven days)."""


LinkBuilder = Callable[["Invitation"], str]
"""The absolute URL of an invitation's acceptance page (the web layer knows the address)."""


class InvitationStatus(StrEnum):
    PENDING = "Pending"
    ACCEPTED = "Accepted"
    EXPIRED = "Expired"
    REVOKED = "Revoked"


@dataclass(frozen=True, slots=True)
class Organization:
    id: str
    tenant_id: str
    name: str
    description: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invitation:
    id: str
    tenant_id: str
    organization_id: str
    phone: str
    status: InvitationStatus
    accepted_user_id: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime

    def status_at(self, now: datetime) -> InvitationStatus:
        """The stored status, except that a pending invitation past its expiry has expired."""
        if self.status is InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.status


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class Acceptance:
    invitation: Invitation
    user: User
    user_created: bool


class OrganizationNotFoundError(PhoneauthError):
    """No organization with this id."""

    code = "entity.not_exists_with_id"
    status = 404


class InvitationNotFoundError(PhoneauthError):
    """No organization invitation with this id."""

    code = "entity.not_exists_with_id"
    status = 404


class InvitationNotPendingError(PhoneauthError):
    """The invitation can no longer be used."""

    code = "organization_invitation.not_pending"
    status = 422


class InvitationAcceptedError(InvitationNotPendingError):
    """The invitation has already been accepted."""

    code = "organization_invitation.already_accepted"


class InvitationRevokedError(InvitationNotPendingError):
    """The invitation has been revoked."""

    code = "organization_invitation.revoked"


class InvitationExpiredError(InvitationNotPendingError):
    """The invitation has expired; ask for a new one."""

    code = "organization_invitation.expired"


class InvalidExpirationError(PhoneauthError):
    """`expiresAt` must lie in the future."""

    code = "organization_invitation.invalid_expiration"
    status = 400


class AlreadyMemberError(PhoneauthError):
    """The invitee is already a member of the organization."""

    code = "organization_invitation.invitee_already_member"
    status = 422


class PendingInvitationExistsError(PhoneauthError):
    """A pending invitation for this phone number to this organization exists; resend it, or
    revoke it first."""

    code = "entity.unique_integrity_violation"
    status = 422


_NOT_PENDING: dict[InvitationStatus, type[InvitationNotPendingError]] = {
    InvitationStatus.ACCEPTED: InvitationAcceptedError,
    InvitationStatus.REVOKED: InvitationRevokedError,
    InvitationStatus.EXPIRED: InvitationExpiredError,
}


class OrganizationStore(Protocol):
    """Organizations, members and invitations of one tenant per call."""

    async def create(self, organization: Organization) -> None: ...
    async def get(self, tenant_id: str, organization_id: str) -> Organization | None: ...
    async def list_organizations(
        self, tenant_id: str, *, offset: int, limit: int
    ) -> Page[Organization]: ...
    async def members(
        self, tenant_id: str, organization_id: str, *, offset: int, limit: int
    ) -> Page[User]: ...
    async def is_member(self, tenant_id: str, organization_id: str, user_id: str) -> bool: ...

    async def add_invitation(self, invitation: Invitation) -> None: ...
    async def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation | None: ...
    async def list_invitations(
        self, tenant_id: str, *, organization_id: str | None, phone: str | None
    ) -> list[Invitation]: ...
    async def delete_invitation(self, tenant_id: str, invitation_id: str) -> None: ...

    async def revoke_invitation(self, tenant_id: str, invitation_id: str, now: datetime) -> bool:
        """Pending → Revoked; True if this call changed it."""
        ...

    async def accept_invitation(
        self, tenant_id: str, invitation_id: str, user_id: str, now: datetime
    ) -> bool:
        """Pending and unexpired → Accepted, and the user a member, in one transaction; True if
        this call did it."""
        ...


class Organizations:
    def __init__(
        self,
        *,
        store: OrganizationStore,
        users: UserStore,
        codes: VerificationCodes,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.users = users
        self.codes = codes
        self.clock = clock

    # --- organizations ------------------------------------------------------------------------

    async def create(self, tenant_id: str, name: str, description: str | None) -> Organization:
        organization = Organization(new_id(), tenant_id, name, description, self.clock())
        await self.store.create(organization)
        return organization

    async def get(self, tenant_id: str, organization_id: str) -> Organization:
        found = await self.store.get(tenant_id, organization_id)
        if found is None:
            raise OrganizationNotFoundError(name="organizations", id=organization_id)
        return found

    async def list_organizations(
        self, tenant_id: str, *, page: int, page_size: int
    ) -> Page[Organization]:
        return await self.store.list_organizations(
            tenant_id, offset=(page - 1) * page_size, limit=page_size
        )

    async def members(
        self, tenant_id: str, organization_id: str, *, page: int, page_size: int
    ) -> Page[User]:
        await self.get(tenant_id, organization_id)
        return await self.store.members(
            tenant_id, organization_id, offset=(page - 1) * page_size, limit=page_size
        )

    # --- invitations --------------------------------------------------------------------------

    async def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation:
        found = await self.store.get_invitation(tenant_id, invitation_id)
        if found is None:
            raise InvitationNotFoundError(name="organization_invitations", id=invitation_id)
        return found

    async def invitations(
        self, tenant_id: str, *, organization_id: str | None = None, phone: str | None = None
    ) -> list[Invitation]:
        e164 = None if phone is None else parse_phone(phone)
        return await self.store.list_invitations(
            tenant_id, organization_id=organization_id, phone=e164
        )

    def _ensure_pending(self, invitation: Invitation) -> None:
        status = invitation.status_at(self.clock())
        if status is not InvitationStatus.PENDING:
            raise _NOT_PENDING[status](invitation_id=invitation.id, status=status.value)

    async def invite(
        self,
        tenant: Tenant,
        organization_id: str,
        phone: str,
        *,
        expires_at: datetime | None = None,
        ip: str | None = None,
        link: LinkBuilder | None = None,
    ) -> Invitation:
        """Create a pending invitation and text its code (and `link`'s URL) to the invitee.

        If the SMS cannot be sent, the invitation is not kept (as Logto rolls back when the
        email fails), so an admin never sees an invitation nobody received.

        Raises:
            OrganizationNotFoundError, InvalidPhoneNumberError, InvalidExpirationError,
            AlreadyMemberError, PendingInvitationExistsError, and the send errors of the codes
            engine (RateLimitedError, NoSmsConnectorError, ConnectorError).
        """
        await self.get(tenant.id, organization_id)
        # Digits that are no number, on a tenant without a connector: 501 before 400 (Logto).
        e164 = await self.codes.recipient(tenant, phone, UsageType.ORGANIZATION_INVITATION)
        now = self.clock()
        expiry = expires_at if expires_at is not None else now + DEFAULT_INVITATION_TTL
        if expiry <= now:
            raise InvalidExpirationError()
        invitee = await self.users.find_by_phone(tenant.id, e164)
        if invitee is not None and await self.store.is_member(
            tenant.id, organization_id, invitee.id
        ):
            raise AlreadyMemberError()
        for existing in await self.invitations(
            tenant.id, organization_id=organization_id, phone=e164
        ):
            if existing.status_at(now) is InvitationStatus.PENDING:
                raise PendingInvitationExistsError(invitation_id=existing.id)
        invitation = Invitation(
            id=new_id(),
            tenant_id=tenant.id,
            organization_id=organization_id,
            phone=e164,
            status=InvitationStatus.PENDING,
            accepted_user_id=None,
            created_at=now,
            updated_at=now,
            expires_at=expiry,
        )
        await self.store.add_invitation(invitation)
        try:
            await self._send(tenant, invitation, ip=ip, link=link)
        except Exception:
            await self.store.delete_invitation(tenant.id, invitation.id)
            raise
        return invitation

    async def _send(
        self, tenant: Tenant, invitation: Invitation, *, ip: str | None, link: LinkBuilder | None
    ) -> None:
        await self.codes.send(
            tenant,
            invitation.phone,
            UsageType.ORGANIZATION_INVITATION,
            ip=ip,
            scope=invitation.id,
            variables=None if link is None else {"link": link(invitation)},
        )

    async def resend(
        self,
        tenant: Tenant,
        invitation_id: str,
        *,
        ip: str | None = None,
        link: LinkBuilder | None = None,
        quiet: bool = False,
    ) -> bool:
        """The code again for a pending invitation (a new one once it has expired, or with
        `resendKeepsCode` off: the previous code then stops working). True if sent.

        `quiet` serves the invitee's own request (no admin key): an unknown, used, revoked or
        expired invitation then gets no SMS and no error, so the answer tells nothing about it.
        Every send counts against the usual budgets (per number, IP and country).
        """
        try:
            invitation = await self.get_invitation(tenant.id, invitation_id)
            self._ensure_pending(invitation)
        except (InvitationNotFoundError, InvitationNotPendingError):
            if not quiet:
                raise
            log.info("no new invitation code: the invitation is not pending")
            return False
        await self._send(tenant, invitation, ip=ip, link=link)
        return True

    async def revoke(self, tenant_id: str, invitation_id: str) -> Invitation:
        """Pending or expired → Revoked; revoking twice is fine; an accepted one stays.

        Raises:
            InvitationNotFoundError, InvitationAcceptedError.
        """
        invitation = await self.get_invitation(tenant_id, invitation_id)
        if invitation.status is InvitationStatus.PENDING:
            await self.store.revoke_invitation(tenant_id, invitation_id, self.clock())
            invitation = await self.get_invitation(tenant_id, invitation_id)
        if invitation.status is InvitationStatus.ACCEPTED:
            raise InvitationAcceptedError(invitation_id=invitation.id, status="Accepted")
        return invitation

    async def accept(
        self, tenant: Tenant, invitation_id: str, code: str, *, ip: str | None = None
    ) -> Acceptance:
        """The code proves the invitee owns the number: that number's user (created if new)
        joins the organization. Invitations are admin-approved, so the tenant's sign-in mode
        does not stop the user from being created.

        Raises:
            InvitationNotFoundError, InvitationNotPendingError (its three subclasses), and the
            verify errors of the codes engine (CodeMismatchError, VerificationBlockedError...).
        """
        invitation = await self.get_invitation(tenant.id, invitation_id)
        self._ensure_pending(invitation)
        await self.codes.verify(
            tenant,
            invitation.phone,
            UsageType.ORGANIZATION_INVITATION,
            code,
            scope=invitation.id,
            ip=ip,
        )
        user, created = await self._user_for(tenant.id, invitation.phone)
        if user.is_suspended:  # no session for a suspended user, by invitation either
            raise UserSuspendedError()
        if not await self.store.accept_invitation(tenant.id, invitation.id, user.id, self.clock()):
            # Revoked or expired between the code check and now.
            self._ensure_pending(await self.get_invitation(tenant.id, invitation.id))
            raise InvitationExpiredError(invitation_id=invitation.id, status="Expired")
        accepted = await self.get_invitation(tenant.id, invitation.id)
        return Acceptance(accepted, user, created)

    async def _user_for(self, tenant_id: str, phone: str) -> tuple[User, bool]:
        found = await self.users.find_by_phone(tenant_id, phone)
        if found is not None:
            return found, False
        try:
            return await self.users.create(tenant_id, phone=phone), True
        except PhoneInUseError:
            # Registered by another request a moment ago: that account is the invitee.
            again = await self.users.find_by_phone(tenant_id, phone)
            if again is None:
                raise
            return again, False
