"""Logto's `GET|PATCH /api/account-center`: which profile fields end users may change through the
Account API. Stored in the tenant settings (`phoneauth.domain.account_center` says why)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phoneauth.domain.account_center import AccountCenter, AccountCenterFields, ProfileField
from phoneauth.domain.tenants import Tenant
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import InvalidInputError

router = APIRouter(tags=["account center"])


class AccountCenterPatch(BaseModel):
    """Logto's body: every key optional; `fields` replaces the whole object."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool | None = None
    fields: AccountCenterFields | None = None
    webauthnRelatedOrigins: list[str] | None = Field(default=None, max_length=100)
    deleteAccountUrl: str | None = Field(default=None, max_length=2048)
    customCss: str | None = Field(default=None, max_length=100_000)
    profileFields: list[ProfileField] | None = None


def _read(tenant: Tenant) -> dict[str, Any]:
    center = tenant.settings.account_center
    return {
        "tenantId": tenant.id,
        "id": "default",
        **center.model_dump(mode="json", by_alias=True),
        "fields": center.fields_json(),
    }


@router.get("/account-center", summary="The tenant's account center settings")
async def get_account_center(tenant: ManagedTenantDep) -> dict[str, Any]:
    return _read(tenant)


@router.patch("/account-center", summary="Change the account center; omitted keys stay")
async def patch_account_center(
    tenant: ManagedTenantDep, request: Request, body: AccountCenterPatch
) -> dict[str, Any]:
    services = services_of(request)
    fresh = await services.tenants.get(tenant.id)  # narrow the window for a lost update
    current = fresh.settings.account_center.model_dump(by_alias=True)
    changes = body.model_dump(include=body.model_fields_set, by_alias=True)
    if changes.get("deleteAccountUrl") == "":
        changes["deleteAccountUrl"] = None  # Logto stores '' as null
    for key in ("enabled", "fields", "webauthnRelatedOrigins"):
        if key in changes and changes[key] is None:
            raise InvalidInputError(
                "The request is invalid.", errors=[{"field": key, "message": "may not be null"}]
            )
    try:
        center = AccountCenter.model_validate({**current, **changes})
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
            for issue in error.errors()
        ]
        raise InvalidInputError("The request is invalid.", errors=problems) from None
    settings = fresh.settings.model_copy(update={"account_center": center})
    return _read(await services.tenants.update_settings(tenant.id, settings))
