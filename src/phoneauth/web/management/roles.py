"""Roles over the Management API, as far as phoneauth has them: the one built-in role
"Logto Management API access" (`management-api-access`), read-only, and Logto's routes that give
it to a machine-to-machine application or take it away (logto-parity §8.3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from phoneauth.domain.applications import (
    BUILT_IN_ROLES,
    ApplicationNotFoundError,
    InvalidApplicationTypeError,
    RoleNotAssignedError,
    RoleNotFoundError,
)
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.management.application_views import RoleAssignment, RoleRead, RolesAssigned
from phoneauth.web.management.paging import link_header

router = APIRouter(tags=["roles"])

Page = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]


@router.get(
    "/roles",
    response_model=list[RoleRead],
    summary="The built-in machine-to-machine role; the total is in the `Total-Number` header",
    description=(
        'phoneauth has one role, "Logto Management API access" (`management-api-access`): a '
        "machine-to-machine application holding it may call the Management API with a client "
        "credentials token. There is no API to make, change or delete roles."
    ),
)
async def list_roles(tenant: ManagedTenantDep, response: Response) -> list[RoleRead]:
    response.headers["Total-Number"] = str(len(BUILT_IN_ROLES))
    return [RoleRead.of(tenant.id, role) for role in BUILT_IN_ROLES]


@router.get(
    "/applications/{application_id}/roles",
    response_model=list[RoleRead],
    summary="The roles of a machine-to-machine application",
    responses=error_responses(ApplicationNotFoundError, InvalidApplicationTypeError),
)
async def list_application_roles(
    application_id: str,
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    page: Page = 1,
    page_size: PageSize = 20,
) -> list[RoleRead]:
    services = services_of(request)
    held = await services.applications.roles_of(tenant.id, application_id)
    response.headers["Total-Number"] = str(len(held))
    response.headers["Link"] = link_header(request.url, page, page_size, len(held))
    shown = held[(page - 1) * page_size :][:page_size]
    return [RoleRead.of(tenant.id, role) for role in shown]


@router.post(
    "/applications/{application_id}/roles",
    status_code=201,
    response_model=RolesAssigned,
    summary="Give roles to a machine-to-machine application",
    description="Roles it holds already are kept; `addedRoleIds` names the new ones.",
    responses=error_responses(
        ApplicationNotFoundError, RoleNotFoundError, InvalidApplicationTypeError
    ),
)
async def assign_roles(
    application_id: str, tenant: ManagedTenantDep, request: Request, body: RoleAssignment
) -> RolesAssigned:
    services = services_of(request)
    added = await services.applications.assign_roles(tenant.id, application_id, body.roleIds)
    return RolesAssigned(roleIds=body.roleIds, addedRoleIds=added)


@router.delete(
    "/applications/{application_id}/roles/{role_id}",
    status_code=204,
    response_class=Response,
    summary="Take a role from a machine-to-machine application",
    responses=error_responses(
        ApplicationNotFoundError, InvalidApplicationTypeError, RoleNotAssignedError
    ),
)
async def remove_role(
    application_id: str, role_id: str, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    await services.applications.remove_role(tenant.id, application_id, role_id)
    return Response(status_code=204)
