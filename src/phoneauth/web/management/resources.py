"""API resources over the Management API (Logto's `/api/resources` paths and shapes).

The built-in Management API resource (`id: management-api`) is listed first and may be read,
never changed or deleted. Unknown body keys are dropped, as Logto's guards drop them; so PATCH
never changes an indicator (Logto's rule: tokens already issued name it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.domain.api_resources import (
    DEFAULT_ACCESS_TOKEN_TTL,
    MAX_ACCESS_TOKEN_TTL,
    MAX_INDICATOR_LENGTH,
    MAX_NAME_LENGTH,
    MIN_ACCESS_TOKEN_TTL,
    ApiResource,
    ApiResourceNotFoundError,
    CannotDeleteManagementApiError,
    CannotModifyManagementApiError,
    IndicatorInUseError,
    InvalidIndicatorError,
)
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.management.paging import link_header

router = APIRouter(tags=["resources"])

Ttl = Annotated[
    int,
    Field(
        ge=MIN_ACCESS_TOKEN_TTL,
        le=MAX_ACCESS_TOKEN_TTL,
        description="Lifetime of its access tokens, in seconds.",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH, examples=["Orders API"])]


class ResourceCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")  # zod objects strip unknown keys, as Logto does

    name: Name
    indicator: str = Field(
        min_length=1,
        max_length=MAX_INDICATOR_LENGTH,
        description="The API's identifier: an absolute URI (RFC 8707), unique in the tenant; "
        "apps send it as `resource`, tokens carry it as `aud`.",
        examples=["https://api.example.com"],
    )
    accessTokenTtl: Ttl = DEFAULT_ACCESS_TOKEN_TTL


class ResourceUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Name | None = None
    accessTokenTtl: Ttl | None = None


class ResourceRead(BaseModel):
    tenantId: str
    id: str
    name: str
    indicator: str
    isDefault: bool
    accessTokenTtl: int

    @classmethod
    def of(cls, resource: ApiResource) -> ResourceRead:
        return cls(
            tenantId=resource.tenant_id,
            id=resource.id,
            name=resource.name,
            indicator=resource.indicator,
            isDefault=resource.is_default,
            accessTokenTtl=resource.access_token_ttl,
        )


class ResourceCreated(ResourceRead):
    scopes: list[str] = Field(default_factory=list, description="Always empty (Logto's).")


@router.get(
    "/resources",
    response_model=list[ResourceRead],
    summary="API resources, the Management API first; paged when `page` or `page_size` is sent",
    responses=error_responses(),
)
async def list_resources(
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> list[ResourceRead]:
    services = services_of(request)
    found = [ResourceRead.of(item) for item in await services.api_resources.list(tenant.id)]
    if page is None and page_size is None:  # Logto's optional paging: everything
        return found
    page, page_size = page or 1, page_size or 20
    response.headers["Total-Number"] = str(len(found))
    response.headers["Link"] = link_header(request.url, page, page_size, len(found))
    return found[(page - 1) * page_size :][:page_size]


@router.post(
    "/resources",
    status_code=201,
    response_model=ResourceCreated,
    summary="Register an API resource",
    responses=error_responses(InvalidIndicatorError, IndicatorInUseError),
)
async def create_resource(
    tenant: ManagedTenantDep, request: Request, body: ResourceCreate
) -> ResourceCreated:
    services = services_of(request)
    created = await services.api_resources.create(
        tenant.id, name=body.name, indicator=body.indicator, access_token_ttl=body.accessTokenTtl
    )
    return ResourceCreated(**ResourceRead.of(created).model_dump())


@router.get(
    "/resources/{resource_id}",
    response_model=ResourceRead,
    summary="One API resource",
    responses=error_responses(ApiResourceNotFoundError),
)
async def get_resource(
    resource_id: str, tenant: ManagedTenantDep, request: Request
) -> ResourceRead:
    services = services_of(request)
    return ResourceRead.of(await services.api_resources.get(tenant.id, resource_id))


@router.patch(
    "/resources/{resource_id}",
    response_model=ResourceRead,
    summary="Rename an API resource or change its token lifetime",
    responses=error_responses(ApiResourceNotFoundError, CannotModifyManagementApiError),
)
async def update_resource(
    resource_id: str, tenant: ManagedTenantDep, request: Request, body: ResourceUpdate
) -> ResourceRead:
    services = services_of(request)
    changed = await services.api_resources.update(
        tenant.id, resource_id, name=body.name, access_token_ttl=body.accessTokenTtl
    )
    return ResourceRead.of(changed)


@router.delete(
    "/resources/{resource_id}",
    status_code=204,
    summary="Delete an API resource: no new tokens for it (issued ones live out their TTL)",
    responses=error_responses(ApiResourceNotFoundError, CannotDeleteManagementApiError),
)
async def delete_resource(resource_id: str, tenant: ManagedTenantDep, request: Request) -> Response:
    services = services_of(request)
    await services.api_resources.delete(tenant.id, resource_id)
    return Response(status_code=204)
