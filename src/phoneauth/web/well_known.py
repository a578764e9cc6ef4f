"""Public, unauthenticated settings that sign-in pages and apps read (Logto's `.well-known`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from phoneauth.domain.tenants import TenantKind, TenantNotFoundError
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.errors import error_responses
from phoneauth.web.management.sign_in_experience import SignInExperienceRead

well_known_router = APIRouter(tags=["well-known"])


class ForgotPasswordAvailability(BaseModel):
    phone: bool = Field(description="A reset code can be sent by SMS.")
    email: bool = Field(description="Always false: phoneauth sends no email.")


class PublicSignInExperience(SignInExperienceRead):
    """The document and what the pages need to know about it; never a secret."""

    forgot_password: ForgotPasswordAvailability = Field(alias="forgotPassword")
    is_development_tenant: bool = Field(alias="isDevelopmentTenant")


@well_known_router.get(
    "/.well-known/sign-in-exp",
    response_model=PublicSignInExperience,
    summary="The sign-in experience as the end-user pages see it (no authentication)",
    responses=error_responses(TenantNotFoundError),
)
async def public_sign_in_experience(request: Request) -> PublicSignInExperience:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    document = await services.sign_in_experience.current(tenant.id)
    has_sms = await services.connectors.active_sms_connector(tenant.id) is not None
    # Logto's getForgotPasswordAvailability: the methods allow it and the connector exists.
    availability = ForgotPasswordAvailability(
        phone=has_sms and document.phone_forgot_password(), email=False
    )
    read = SignInExperienceRead.of(document, tenant)
    return PublicSignInExperience.model_validate(
        {
            **read.model_dump(),
            "forgot_password": availability,
            "is_development_tenant": tenant.kind is TenantKind.DEVELOPMENT,
        }
    )
