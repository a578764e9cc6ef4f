"""Tenants, their kind and settings (code policy, rate limits, retention), export and import."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phoneauth.connectors import InvalidConfigError
from phoneauth.domain.admin_keys import ForbiddenError
from phoneauth.domain.connector_management import DevelopmentOnlyError, UnknownFactoryError
from phoneauth.domain.management_callers import ManagementCaller
from phoneauth.domain.sign_in_experience_rules import RULE_ERRORS
from phoneauth.domain.tenant_kinds import DevelopmentConnectorInUseError, TenantKinds
from phoneauth.domain.tenant_migration import InvalidExportError, TenantMigration
from phoneauth.domain.tenants import (
    Tenant,
    TenantExistsError,
    TenantKind,
    TenantNotFoundError,
    TenantSettings,
)
from phoneauth.web.deps import AdminDep, ManagedTenantDep, services_of
from phoneauth.web.errors import InvalidInputError, error_responses
from phoneauth.wiring import Services

router = APIRouter(tags=["tenants"])


class TenantRead(BaseModel):
    id: str
    name: str
    kind: TenantKind
    settings: dict[str, Any]

    @classmethod
    def of(cls, tenant: Tenant) -> TenantRead:
        settings = tenant.settings.model_dump(mode="json", by_alias=True)
        return cls(id=tenant.id, name=tenant.name, kind=tenant.kind, settings=settings)


class TenantCreate(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,20}$", description="Lower-case, 2-21 chars.")
    name: str = Field(min_length=1, max_length=128)
    kind: TenantKind = TenantKind.DEVELOPMENT


class TenantUpdate(BaseModel):
    """What a tenant update changes; an omitted key keeps its value."""

    model_config = ConfigDict(extra="forbid")

    kind: TenantKind | None = Field(
        default=None,
        description=(
            "`development` or `production`, the `default` tenant's included. Switching to "
            "production checks production's rules: a development-only SMS connector (the "
            "outbox) refuses it with `409 tenant.development_connector_in_use`. Switching back "
            "to development is always allowed."
        ),
        examples=["production"],
    )


async def _update(services: Services, tenant_id: str, body: TenantUpdate) -> Tenant:
    if body.kind is None:
        return await services.tenants.get(tenant_id)
    return await TenantKinds(services.tenants, services.connectors).change(tenant_id, body.kind)


def _both_objects(left: object, right: object) -> bool:
    return isinstance(left, dict) and isinstance(right, dict)


@router.get("/tenant", response_model=TenantRead, summary="This tenant and its settings")
async def get_tenant(tenant: ManagedTenantDep) -> TenantRead:
    return TenantRead.of(tenant)


@router.patch(
    "/tenant",
    response_model=TenantRead,
    summary="Change this tenant's kind (development or production)",
    responses=error_responses(DevelopmentConnectorInUseError),
)
async def patch_tenant(
    tenant: ManagedTenantDep, request: Request, body: TenantUpdate
) -> TenantRead:
    services = services_of(request)
    return TenantRead.of(await _update(services, tenant.id, body))


@router.patch(
    "/tenant/settings",
    response_model=TenantRead,
    summary="Change settings; omitted keys keep their value",
    responses=error_responses(),
)
async def patch_settings(
    tenant: ManagedTenantDep,
    request: Request,
    changes: Annotated[
        dict[str, Any], Body(examples=[{"verificationCodePolicy": {"maxRetryAttempts": 5}}])
    ],
) -> TenantRead:
    services = services_of(request)
    current = tenant.settings.model_dump(mode="json", by_alias=True)
    merged = {
        key: {**current[key], **value}
        if isinstance(current.get(key), dict) and isinstance(value, dict)
        else value
        for key, value in changes.items()
    }
    try:
        settings = TenantSettings.model_validate({**current, **merged})
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
            for issue in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise InvalidInputError("The settings are invalid.", errors=problems) from None
    return TenantRead.of(await services.tenants.update_settings(tenant.id, settings))


@router.get("/tenants", response_model=list[TenantRead], summary="Every tenant (global keys)")
async def list_tenants(admin: AdminDep, request: Request) -> list[TenantRead]:
    services = services_of(request)
    tenants = await services.tenants.store.list()
    return [TenantRead.of(t) for t in tenants if admin.may_manage(t.id)]


@router.post(
    "/tenants",
    response_model=TenantRead,
    status_code=201,
    summary="Create a tenant (global keys)",
    responses=error_responses(TenantExistsError, ForbiddenError),
)
async def create_tenant(admin: AdminDep, request: Request, body: TenantCreate) -> TenantRead:
    services = services_of(request)
    if admin.tenant_id is not None:
        raise ForbiddenError("Only a global admin key may create tenants.")
    return TenantRead.of(await services.tenants.create(body.id, body.name, body.kind))


class FieldChangeRead(BaseModel):
    path: str = Field(examples=["connector.config.accountSID"])
    before: Any = None
    after: Any = None


class ImportRead(BaseModel):
    applied: bool = Field(description="False for `?dryRun=true`: nothing was changed.")
    changes: list[FieldChangeRead]


def _migration(services: Services) -> TenantMigration:
    return TenantMigration(services.tenants, services.connectors, services.sign_in_experience)


async def _managed(admin: ManagementCaller, services: Services, target_id: str) -> str:
    if not admin.may_manage(target_id):
        raise ForbiddenError(tenant_id=target_id)
    return (await services.tenants.get(target_id)).id


@router.patch(
    "/tenants/{target_id}",
    response_model=TenantRead,
    summary="Change a tenant's kind (development or production)",
    responses=error_responses(TenantNotFoundError, ForbiddenError, DevelopmentConnectorInUseError),
)
async def patch_other_tenant(
    target_id: str, admin: AdminDep, request: Request, body: TenantUpdate
) -> TenantRead:
    services = services_of(request)
    tenant_id = await _managed(admin, services, target_id)
    return TenantRead.of(await _update(services, tenant_id, body))


@router.get(
    "/tenants/{target_id}/export",
    summary="A tenant's connectors, templates and sign-in experience as one JSON document",
    responses=error_responses(TenantNotFoundError, ForbiddenError),
)
async def export_tenant(
    target_id: str,
    admin: AdminDep,
    request: Request,
    include_secrets: Annotated[
        bool,
        Query(alias="includeSecrets", description="Put the connectors' secrets in clear."),
    ] = False,
) -> dict[str, Any]:
    services = services_of(request)
    tenant_id = await _managed(admin, services, target_id)
    return await _migration(services).export(tenant_id, include_secrets=include_secrets)


@router.post(
    "/tenants/{target_id}/import",
    response_model=ImportRead,
    summary="Apply an export to a tenant; `?dryRun=true` only answers the changes",
    responses=error_responses(
        TenantNotFoundError,
        ForbiddenError,
        InvalidExportError,
        InvalidConfigError,
        UnknownFactoryError,
        DevelopmentOnlyError,
        *RULE_ERRORS,
    ),
)
async def import_tenant(
    target_id: str,
    admin: AdminDep,
    request: Request,
    body: Annotated[dict[str, Any], Body(description="What `GET .../export` answered.")],
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
) -> ImportRead:
    services = services_of(request)
    tenant_id = await _managed(admin, services, target_id)
    result = await _migration(services).import_(tenant_id, body, dry_run=dry_run)
    return ImportRead(
        applied=result.applied,
        changes=[
            FieldChangeRead(path=c.path, before=c.before, after=c.after) for c in result.changes
        ],
    )
