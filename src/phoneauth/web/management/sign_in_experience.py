"""The sign-in experience over the Management API: Logto's `GET|PATCH /api/sign-in-exp`."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from phoneauth.domain.sign_in_experience import (
    DOCUMENT_KEYS,
    ForgotPasswordMethod,
    Mfa,
    SignIn,
    SignInExperience,
    SignInMode,
    SignUp,
)
from phoneauth.domain.sign_in_experience_rules import RULE_ERRORS
from phoneauth.domain.tenants import Tenant, VerificationCodePolicy
from phoneauth.web.deps import ManagedTenantDep, ServicesDep
from phoneauth.web.errors import error_responses

router = APIRouter(tags=["sign-in experience"])

_NOT_NULL = ("signUp", "signIn", "signInMode", "mfa")


class SignInExperienceRead(SignInExperience):
    """Logto's document (the parts phoneauth honours) and the tenant's code policy."""

    id: str = Field(default="default", description="Logto's id: one document per tenant.")
    tenant_id: str = Field(alias="tenantId")
    verification_code_policy: VerificationCodePolicy = Field(alias="verificationCodePolicy")

    @classmethod
    def of(cls, document: SignInExperience, tenant: Tenant) -> SignInExperienceRead:
        return cls.model_validate(
            {
                **document.model_dump(),
                "tenant_id": tenant.id,
                "verification_code_policy": tenant.settings.verification_code_policy,
            }
        )


class SignInExperiencePatch(BaseModel):
    """Top-level keys to replace; Logto's other keys (branding, color...) are ignored, as Logto
    strips keys it does not know."""

    model_config = ConfigDict(extra="ignore")

    signUp: SignUp | None = None
    signIn: SignIn | None = None
    signInMode: SignInMode | None = None
    forgotPasswordMethods: list[ForgotPasswordMethod] | None = Field(
        default=None, description="`null`: derived from the connectors, as in Logto."
    )
    mfa: Mfa | None = None
    verificationCodePolicy: VerificationCodePolicy | None = Field(
        default=None, description="Kept in the tenant settings; `null` restores the defaults."
    )

    @model_validator(mode="after")
    def _not_null(self) -> SignInExperiencePatch:
        nulls = [
            key for key in _NOT_NULL if key in self.model_fields_set and getattr(self, key) is None
        ]
        if nulls:
            raise ValueError(f"may not be null: {', '.join(nulls)}")
        return self


@router.get(
    "/sign-in-exp",
    response_model=SignInExperienceRead,
    summary="The tenant's sign-in experience",
)
async def get_sign_in_experience(
    tenant: ManagedTenantDep, services: ServicesDep
) -> SignInExperienceRead:
    return SignInExperienceRead.of(await services.sign_in_experience.current(tenant.id), tenant)


@router.patch(
    "/sign-in-exp",
    response_model=SignInExperienceRead,
    summary="Replace the given top-level keys; Logto's rules decide",
    responses=error_responses(*RULE_ERRORS),
)
async def patch_sign_in_experience(
    tenant: ManagedTenantDep, services: ServicesDep, body: SignInExperiencePatch
) -> SignInExperienceRead:
    given = body.model_fields_set
    changes = {DOCUMENT_KEYS[key]: getattr(body, key) for key in given if key in DOCUMENT_KEYS}
    experiences = services.sign_in_experience
    if changes:
        document = await experiences.update(tenant.id, changes, services.connectors)
    else:
        document = await experiences.current(tenant.id)
    if "verificationCodePolicy" in given:
        policy = body.verificationCodePolicy or VerificationCodePolicy()
        fresh = await services.tenants.get(tenant.id)  # narrow the window for a lost update
        settings = fresh.settings.model_copy(update={"verification_code_policy": policy})
        tenant = await services.tenants.update_settings(tenant.id, settings)
    return SignInExperienceRead.of(document, tenant)
