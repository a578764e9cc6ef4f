"""Organizations and invitations by phone over the Management API (Logto's paths and shapes).

Times are Logto's: milliseconds since the epoch. An invitation's `invitee` is a phone number
(E.164) where Logto has an email address.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.domain.organizations import (
    AlreadyMemberError,
    InvalidExpirationError,
    Invitation,
    InvitationAcceptedError,
    InvitationExpiredError,
    InvitationNotFoundError,
    InvitationRevokedError,
    InvitationStatus,
    Organization,
    OrganizationNotFoundError,
    PendingInvitationExistsError,
)
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.web.deps import ManagedTenantDep, client_ip, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.links import invitation_url
from phoneauth.web.verifications import SEND_ERRORS

router = APIRouter(tags=["organizations"])

_MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment datetime knows


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, examples=["Acme"])
    description: str | None = Field(default=None, max_length=512)


class OrganizationRead(BaseModel):
    id: str
    tenantId: str
    name: str
    description: str | None
    createdAt: int = Field(description="Milliseconds since the epoch.")

    @classmethod
    def of(cls, organization: Organization) -> OrganizationRead:
        return cls(
            id=organization.id,
            tenantId=organization.tenant_id,
            name=organization.name,
            description=organization.description,
            createdAt=epoch_ms(organization.created_at),
        )


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organizationId: str = Field(min_length=1, max_length=64)
    invitee: str = Field(
        min_length=1,
        max_length=64,
        description="The invitee's phone number: E.164 or Logto's digits-only form.",
        examples=["+4915112345678"],
    )
    expiresAt: int | None = Field(
        default=None,
        ge=0,
        le=_MAX_EPOCH_MS,
        description="Milliseconds since the epoch; seven days from now when omitted.",
    )


class InvitationRead(BaseModel):
    id: str
    tenantId: str
    organizationId: str
    invitee: str = Field(description="E.164 phone number.")
    status: InvitationStatus
    acceptedUserId: str | None
    createdAt: int
    updatedAt: int
    expiresAt: int

    @classmethod
    def of(cls, invitation: Invitation, now: datetime) -> InvitationRead:
        return cls(
            id=invitation.id,
            tenantId=invitation.tenant_id,
            organizationId=invitation.organization_id,
            invitee=invitation.phone,
            status=invitation.status_at(now),
            acceptedUserId=invitation.accepted_user_id,
            createdAt=epoch_ms(invitation.created_at),
            updatedAt=epoch_ms(invitation.updated_at),
            expiresAt=epoch_ms(invitation.expires_at),
        )


Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]
_NOT_PENDING = (InvitationAcceptedError, InvitationRevokedError, InvitationExpiredError)


@router.post(
    "/organizations",
    status_code=201,
    response_model=OrganizationRead,
    summary="Create an organization",
    responses=error_responses(),
)
async def create_organization(
    tenant: ManagedTenantDep, request: Request, body: OrganizationCreate
) -> OrganizationRead:
    services = services_of(request)
    created = await services.organizations.create(tenant.id, body.name, body.description)
    return OrganizationRead.of(created)


@router.get(
    "/organizations",
    response_model=list[OrganizationRead],
    summary="Organizations, newest first; the total is in the `Total-Number` header",
    responses=error_responses(),
)
async def list_organizations(
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[OrganizationRead]:
    services = services_of(request)
    found = await services.organizations.list_organizations(
        tenant.id, page=page, page_size=page_size
    )
    response.headers["Total-Number"] = str(found.total)
    return [OrganizationRead.of(item) for item in found.items]


@router.get(
    "/organizations/{organization_id}",
    response_model=OrganizationRead,
    summary="One organization",
    responses=error_responses(OrganizationNotFoundError),
)
async def get_organization(
    organization_id: str, tenant: ManagedTenantDep, request: Request
) -> OrganizationRead:
    services = services_of(request)
    return OrganizationRead.of(await services.organizations.get(tenant.id, organization_id))


@router.get(
    "/organizations/{organization_id}/users",
    summary="Members, in the order they joined; the total is in the `Total-Number` header",
    responses=error_responses(OrganizationNotFoundError),
)
async def list_members(
    organization_id: str,
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[dict[str, Any]]:
    services = services_of(request)
    found = await services.organizations.members(
        tenant.id, organization_id, page=page, page_size=page_size
    )
    response.headers["Total-Number"] = str(found.total)
    return [user.public() for user in found.items]


@router.post(
    "/organization-invitations",
    status_code=201,
    response_model=InvitationRead,
    summary="Invite a phone number; the invitee gets an SMS with a code and the page's link",
    responses=error_responses(
        OrganizationNotFoundError,
        InvalidPhoneNumberError,
        InvalidExpirationError,
        AlreadyMemberError,
        PendingInvitationExistsError,
        *SEND_ERRORS,
    ),
)
async def create_invitation(
    tenant: ManagedTenantDep, body: InvitationCreate, request: Request
) -> InvitationRead:
    services = services_of(request)
    expires_at = (
        None if body.expiresAt is None else datetime.fromtimestamp(body.expiresAt / 1000, tz=UTC)
    )
    invitation = await services.organizations.invite(
        tenant,
        body.organizationId,
        body.invitee,
        expires_at=expires_at,
        ip=client_ip(request),
        link=partial(invitation_url, services.settings),
    )
    return InvitationRead.of(invitation, services.organizations.clock())


@router.get(
    "/organization-invitations",
    response_model=list[InvitationRead],
    summary="Invitations, newest first, optionally of one organization or one phone number",
    responses=error_responses(InvalidPhoneNumberError),
)
async def list_invitations(
    tenant: ManagedTenantDep,
    request: Request,
    organization_id: Annotated[str | None, Query(alias="organizationId", max_length=64)] = None,
    invitee: Annotated[str | None, Query(max_length=64)] = None,
) -> list[InvitationRead]:
    services = services_of(request)
    found = await services.organizations.invitations(
        tenant.id, organization_id=organization_id, phone=invitee
    )
    now = services.organizations.clock()
    return [InvitationRead.of(item, now) for item in found]


@router.get(
    "/organization-invitations/{invitation_id}",
    response_model=InvitationRead,
    summary="One invitation",
    responses=error_responses(InvitationNotFoundError),
)
async def get_invitation(
    invitation_id: str, tenant: ManagedTenantDep, request: Request
) -> InvitationRead:
    services = services_of(request)
    found = await services.organizations.get_invitation(tenant.id, invitation_id)
    return InvitationRead.of(found, services.organizations.clock())


@router.post(
    "/organization-invitations/{invitation_id}/message",
    status_code=204,
    response_class=Response,
    summary="Send the invitation SMS again with a new code",
    responses=error_responses(InvitationNotFoundError, *_NOT_PENDING, *SEND_ERRORS),
)
async def resend_invitation(
    invitation_id: str, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    await services.organizations.resend(
        tenant,
        invitation_id,
        ip=client_ip(request),
        link=partial(invitation_url, services.settings),
    )
    return Response(status_code=204)


@router.delete(
    "/organization-invitations/{invitation_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an invitation (kept, with status Revoked); accepted ones cannot be",
    responses=error_responses(InvitationNotFoundError, InvitationAcceptedError),
)
async def revoke_invitation(
    invitation_id: str, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    await services.organizations.revoke(tenant.id, invitation_id)
    return Response(status_code=204)
