"""`/api/sms-protection`: the tenant's SMS pumping defence, its settings and live state.

The settings are the tenant setting `smsProtection` (also changed by `PATCH /api/tenant/settings`);
this resource replaces them whole and adds what the defence sees now: suspended countries and
today's counts. Admins resume (or suspend) a country here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phoneauth.domain.sms_protection import (
    CountrySuspension,
    InvalidCountryError,
    SuspensionNotFoundError,
)
from phoneauth.domain.sms_protection_settings import SmsProtectionSettings
from phoneauth.domain.tenants import Tenant
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import InvalidInputError, error_responses
from phoneauth.wiring import Services

router = APIRouter(tags=["sms protection"])


class SuspensionRead(BaseModel):
    country: str = Field(description="ISO 3166 region; `001` for non-geographic numbers.")
    reason: str = Field(description="`low_conversion` (the conversion watch) or `admin`.")
    details: str | None = Field(description="Why, in words.")
    suspendedAt: datetime
    until: datetime | None = Field(description="null: until an admin resumes the country.")


class CountryTodayRead(BaseModel):
    country: str
    messages: int
    estimatedCost: float


class TodayRead(BaseModel):
    day: str = Field(description="The UTC day the counts and caps are for.")
    messages: int = Field(description="Codes requested today (the caps count these).")
    dailyLimit: int | None
    estimatedCost: float | None = Field(description="Only while `dailyCostLimit` is set.")
    dailyCostLimit: float | None
    countries: list[CountryTodayRead] = Field(
        description="The countries of the price table, the allow-list and the suspensions."
    )


class ProtectionRead(BaseModel):
    settings: dict[str, Any] = Field(description="`smsProtection`, as the tenant setting.")
    suspendedCountries: list[SuspensionRead]
    today: TodayRead


class SuspendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    details: str | None = Field(default=None, max_length=500, description="Why, in words.")


def suspension_read(found: CountrySuspension) -> SuspensionRead:
    return SuspensionRead(
        country=found.country,
        reason=found.reason,
        details=found.details,
        suspendedAt=found.suspended_at,
        until=found.until,
    )


async def protection_read(services: Services, tenant: Tenant) -> ProtectionRead:
    rules = tenant.settings.sms_protection
    state = await services.sms_protection.state(tenant)
    return ProtectionRead(
        settings=rules.model_dump(mode="json", by_alias=True),
        suspendedCountries=[suspension_read(found) for found in state.suspended],
        today=TodayRead(
            day=state.day,
            messages=state.messages,
            dailyLimit=rules.daily_limit,
            estimatedCost=state.cost,
            dailyCostLimit=rules.daily_cost_limit,
            countries=[
                CountryTodayRead(country=c.country, messages=c.messages, estimatedCost=c.cost)
                for c in state.countries
            ],
        ),
    )


def parse_settings(document: object) -> SmsProtectionSettings:
    """The settings, or 400 `guard.invalid_input` naming each problem."""
    try:
        return SmsProtectionSettings.model_validate(document)
    except ValidationError as error:
        problems = [
            {"field": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
            for issue in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise InvalidInputError(
            "The SMS protection settings are invalid.", errors=problems
        ) from None


@router.get(
    "/sms-protection", response_model=ProtectionRead, summary="Pumping defence: settings, state"
)
async def read_protection(tenant: ManagedTenantDep, request: Request) -> ProtectionRead:
    services = services_of(request)
    return await protection_read(services, tenant)


@router.put(
    "/sms-protection",
    response_model=ProtectionRead,
    summary="Replace the pumping defence settings (a key left out gets its default)",
    responses=error_responses(),
)
async def put_protection(
    tenant: ManagedTenantDep,
    request: Request,
    document: Annotated[
        dict[str, Any], Body(examples=[{"deniedCountries": ["LV"], "dailyLimit": 5000}])
    ],
) -> ProtectionRead:
    services = services_of(request)
    rules = parse_settings(document)
    settings = tenant.settings.model_copy(update={"sms_protection": rules})
    changed = await services.tenants.update_settings(tenant.id, settings)
    return await protection_read(services, changed)


@router.post(
    "/sms-protection/suspensions/{country}/resume",
    response_model=ProtectionRead,
    summary="Resume sending to a suspended country",
    responses=error_responses(SuspensionNotFoundError, InvalidCountryError),
)
async def resume_country(
    country: str, tenant: ManagedTenantDep, request: Request
) -> ProtectionRead:
    services = services_of(request)
    await services.sms_protection.resume(tenant, country)
    return await protection_read(services, tenant)


@router.post(
    "/sms-protection/suspensions/{country}",
    response_model=ProtectionRead,
    summary="Suspend sending to a country until resumed",
    responses=error_responses(InvalidCountryError),
)
async def suspend_country(
    country: str,
    tenant: ManagedTenantDep,
    request: Request,
    body: Annotated[SuspendBody | None, Body()] = None,
) -> ProtectionRead:
    services = services_of(request)
    await services.sms_protection.suspend(tenant, country, None if body is None else body.details)
    return await protection_read(services, tenant)
