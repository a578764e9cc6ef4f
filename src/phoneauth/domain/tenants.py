"""Tenants and their settings: every rule that an operator may tune lives here, per tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from phoneauth.errors import PhoneauthError

DEFAULT_TENANT_ID = "default"


class TenantKind(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class VerificationCodePolicy(_Settings):
    """Logto's `verificationCodePolicy`: same names, bounds and defaults."""

    expiration_duration: int = Field(
        default=600,
        ge=60,
        le=3600,
        alias="expirationDuration",
        description="Code lifetime, seconds.",
    )
    max_retry_attempts: int = Field(
        default=10, ge=1, le=100, alias="maxRetryAttempts", description="Wrong tries per code."
    )


class RateLimitPolicy(_Settings):
    """Send and verify budgets; Logto has only the first, fixed."""

    recipient_limit: int = Field(default=10, ge=1, le=10_000, alias="recipientLimit")
    recipient_window_seconds: int = Field(
        default=600, ge=1, le=86_400, alias="recipientWindowSeconds"
    )
    ip_limit: int = Field(default=30, ge=1, le=100_000, alias="ipLimit")
    ip_window_seconds: int = Field(default=600, ge=1, le=86_400, alias="ipWindowSeconds")
    country_limit: int = Field(default=1000, ge=1, le=10_000_000, alias="countryLimit")
    country_window_seconds: int = Field(default=3600, ge=1, le=86_400, alias="countryWindowSeconds")
    failed_verification_limit: int = Field(
        default=30,
        ge=1,
        le=10_000,
        alias="failedVerificationLimit",
        description="Wrong codes per phone number within the lockout window before it is locked.",
    )
    lockout_seconds: int = Field(default=3600, ge=60, le=86_400, alias="lockoutSeconds")


class TenantSettings(_Settings):
    verification_code_policy: VerificationCodePolicy = Field(
        default_factory=VerificationCodePolicy, alias="verificationCodePolicy"
    )
    rate_limits: RateLimitPolicy = Field(default_factory=RateLimitPolicy, alias="rateLimits")
    message_log_retention_days: int = Field(
        default=30, ge=1, le=3650, alias="messageLogRetentionDays"
    )


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    kind: TenantKind
    settings: TenantSettings
    created_at: datetime

    @property
    def is_production(self) -> bool:
        return self.kind is TenantKind.PRODUCTION


class TenantNotFoundError(PhoneauthError):
    """No tenant with this id."""

    code = "tenant.not_found"
    status = 404


class TenantExistsError(PhoneauthError):
    """A tenant with this id already exists."""

    code = "tenant.already_exists"
    status = 409


class TenantStore(Protocol):
    async def get(self, tenant_id: str) -> Tenant | None: ...
    async def list(self) -> list[Tenant]: ...
    async def create(self, tenant_id: str, name: str, kind: TenantKind) -> Tenant: ...
    async def save_settings(self, tenant_id: str, settings: TenantSettings) -> Tenant: ...


class Tenants:
    """Tenant lookups and changes; the default tenant always exists."""

    def __init__(self, store: TenantStore) -> None:
        self.store = store

    async def ensure_default(self) -> Tenant:
        found = await self.store.get(DEFAULT_TENANT_ID)
        if found is not None:
            return found
        try:
            return await self.store.create(DEFAULT_TENANT_ID, "Default", TenantKind.DEVELOPMENT)
        except TenantExistsError:  # another instance created it at the same moment
            return await self.get(DEFAULT_TENANT_ID)

    async def get(self, tenant_id: str) -> Tenant:
        found = await self.store.get(tenant_id)
        if found is None:
            raise TenantNotFoundError(f"No tenant with id {tenant_id!r}.", tenant_id=tenant_id)
        return found

    async def create(self, tenant_id: str, name: str, kind: TenantKind) -> Tenant:
        return await self.store.create(tenant_id, name, kind)

    async def update_settings(self, tenant_id: str, settings: TenantSettings) -> Tenant:
        await self.get(tenant_id)
        return await self.store.save_settings(tenant_id, settings)
