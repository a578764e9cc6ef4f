"""Tenants and their settings: every rule that an operator may tune lives here, per tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from phoneauth.connectors.autofill import Autofill
from phoneauth.domain.account_center import AccountCenter
from phoneauth.domain.autofill_settings import AndroidAppHash, WebOtpDomain
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.domain.sms_protection_settings import SmsProtectionSettings
from phoneauth.errors import PhoneauthError, UnstorableTextError

DEFAULT_TENANT_ID = "default"


class TenantKind(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class VerificationCodePolicy(_Settings):
    """Logto's `verificationCodePolicy`: same names, bounds and defaults, plus phoneauth's
    resend rules."""

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
    # phoneauth's own (Logto has neither): the resend rules of issue 16.
    resend_keeps_code: bool = Field(
        default=True,
        alias="resendKeepsCode",
        description="A resend within the waiting code's validity sends the same code again "
        "(same expiry, one attempt budget), so the first message still works.",
    )
    resend_cooldown_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        alias="resendCooldownSeconds",
        description="Seconds between two sends to the same recipient for the same purpose "
        "(429 `verification_code.resend_too_soon` before); 0 turns the wait off.",
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


class FixedCodePhone(_Settings):
    """A test phone number (Supabase's feature; Logto has none): no SMS, a fixed code."""

    phone: str = Field(description="Stored in E.164.", examples=["+4915112345678"])
    code: str = Field(pattern=r"^[0-9]{6}$", description="The code it always gets: 6 digits.")

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        try:
            return parse_phone(value)
        except InvalidPhoneNumberError:
            raise ValueError("not a valid phone number; give it as +<country><number>") from None


class TenantSettings(_Settings):
    verification_code_policy: VerificationCodePolicy = Field(
        default_factory=VerificationCodePolicy, alias="verificationCodePolicy"
    )
    rate_limits: RateLimitPolicy = Field(default_factory=RateLimitPolicy, alias="rateLimits")
    message_log_retention_days: int = Field(
        default=30, ge=1, le=3650, alias="messageLogRetentionDays"
    )
    test_phone_numbers: list[FixedCodePhone] = Field(
        default_factory=list,
        max_length=100,
        alias="testPhoneNumbers",
        description="Numbers that get their fixed code and no SMS (app-store review, CI).",
    )
    account_center: AccountCenter = Field(
        default_factory=AccountCenter,
        alias="accountCenter",
        description="Logto's account center: what end users may change (`/api/account-center`).",
    )
    web_otp_domain: WebOtpDomain = None
    android_app_hash: AndroidAppHash = None
    sms_protection: SmsProtectionSettings = Field(
        default_factory=SmsProtectionSettings,
        alias="smsProtection",
        description="SMS pumping defence (`/api/sms-protection`): countries, number types, "
        "prefix velocity, daily caps, conversion watch.",
    )

    @model_validator(mode="after")
    def _one_code_per_number(self) -> TenantSettings:
        phones = [entry.phone for entry in self.test_phone_numbers]
        if len(set(phones)) != len(phones):
            raise ValueError("testPhoneNumbers lists a phone number twice")
        return self

    @property
    def autofill(self) -> Autofill | None:
        """The lines the connectors append to every code SMS; None when neither is set."""
        found = Autofill(self.web_otp_domain, self.android_app_hash)
        return found if found else None

    def fixed_code_for(self, e164: str) -> str | None:
        """The test number's fixed code, None for every other number."""
        return next((t.code for t in self.test_phone_numbers if t.phone == e164), None)


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
    async def save_kind(self, tenant_id: str, kind: TenantKind) -> Tenant: ...


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
        try:
            found = await self.store.get(tenant_id)
        except UnstorableTextError:  # a NUL in the URL's tenant: no tenant can have that id
            found = None
        if found is None:
            raise TenantNotFoundError(f"No tenant with id {tenant_id!r}.", tenant_id=tenant_id)
        return found

    async def create(self, tenant_id: str, name: str, kind: TenantKind) -> Tenant:
        """A new tenant saves no sign-in experience: it follows the default, which offers phone
        sign-in only once the tenant has an SMS connector (`default_sign_in_experience`)."""
        return await self.store.create(tenant_id, name, kind)

    async def update_settings(self, tenant_id: str, settings: TenantSettings) -> Tenant:
        await self.get(tenant_id)
        return await self.store.save_settings(tenant_id, settings)
