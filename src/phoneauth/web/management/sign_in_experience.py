"""The sign-in experience over the Management API: Logto's `GET|PATCH /api/sign-in-exp` and
`POST /api/sign-in-exp/default/check-password`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from phoneauth.domain.account import user_info as user_info_of
from phoneauth.domain.email_blocklist import EMAIL_BLOCKLIST_POLICY_ERRORS
from phoneauth.domain.password_policy import PasswordPolicy, password_issues
from phoneauth.domain.sign_in_experience import (
    DOCUMENT_KEYS,
    ForgotPasswordMethod,
    Mfa,
    SignIn,
    SignInExperience,
    SignInMode,
    SignUp,
)
from phoneauth.domain.sign_in_experience_fields import (
    AdaptiveMfa,
    AgreeToTermsPolicy,
    Branding,
    CaptchaPolicy,
    Color,
    CustomUiAssets,
    EmailBlocklistPolicy,
    LanguageInfo,
    PasskeySignIn,
    PasswordExpiration,
    SentinelPolicy,
    SignUpProfileField,
    SocialSignIn,
    UsernamePolicy,
)
from phoneauth.domain.sign_in_experience_rules import RULE_ERRORS
from phoneauth.domain.tenants import Tenant, VerificationCodePolicy
from phoneauth.domain.users import UserNotFoundError
from phoneauth.errors import PhoneauthError
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import InvalidInputError, error_responses

router = APIRouter(tags=["sign-in experience"])

_NULLABLE = {
    "termsOfUseUrl",
    "privacyPolicyUrl",
    "supportEmail",
    "supportWebsiteUrl",
    "unknownSessionRedirectUrl",
    "customCss",
    "customUiAssets",
    "forgotPasswordMethods",
    "signUpProfileFields",
    "verificationCodePolicy",
}
"""Logto's nullable keys; `null` for any other key is refused as invalid input."""


class SignInExperienceRead(SignInExperience):
    """Logto's whole document (`trustedDevice` left out, as Logto does without dev features) and
    the tenant's code policy."""

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
    """Top-level keys to replace, each optional; keys Logto does not know are ignored, as Logto
    strips them. Cross-field and format rules run on the merged document."""

    model_config = ConfigDict(extra="ignore")

    color: Color | None = None
    branding: Branding | None = None
    hideLogtoBranding: bool | None = None
    languageInfo: LanguageInfo | None = None
    termsOfUseUrl: str | None = None
    privacyPolicyUrl: str | None = None
    supportEmail: str | None = None
    supportWebsiteUrl: str | None = None
    unknownSessionRedirectUrl: str | None = None
    agreeToTermsPolicy: AgreeToTermsPolicy | None = None
    signUp: SignUp | None = None
    signIn: SignIn | None = None
    socialSignIn: SocialSignIn | None = None
    socialSignInConnectorTargets: list[str] | None = None
    signInMode: SignInMode | None = None
    customCss: str | None = None
    customContent: dict[str, str] | None = None
    customUiAssets: CustomUiAssets | None = None
    customUiCsp: dict[str, Any] | None = None
    passwordPolicy: PasswordPolicy | None = None
    mfa: Mfa | None = None
    adaptiveMfa: AdaptiveMfa | None = None
    singleSignOnEnabled: bool | None = None
    captchaPolicy: CaptchaPolicy | None = None
    sentinelPolicy: SentinelPolicy | None = None
    emailBlocklistPolicy: EmailBlocklistPolicy | None = None
    passkeySignIn: PasskeySignIn | None = None
    forgotPasswordMethods: list[ForgotPasswordMethod] | None = Field(
        default=None, description="`null`: derived from the connectors, as in Logto."
    )
    signUpProfileFields: list[SignUpProfileField] | None = None
    passwordExpiration: PasswordExpiration | None = None
    usernamePolicy: UsernamePolicy | None = None
    verificationCodePolicy: VerificationCodePolicy | None = Field(
        default=None, description="Kept in the tenant settings; `null` restores the defaults."
    )

    @model_validator(mode="after")
    def _not_null(self) -> SignInExperiencePatch:
        nulls = [
            key
            for key in self.model_fields_set
            if key not in _NULLABLE and getattr(self, key) is None
        ]
        if nulls:
            raise ValueError(f"may not be null: {', '.join(sorted(nulls))}")
        return self


class PasswordCheck(BaseModel):
    model_config = ConfigDict(extra="ignore")

    password: str = Field(max_length=4096)
    userId: str | None = Field(default=None, max_length=64)


class UserInfoRequiredError(PhoneauthError):
    """User information data is required to check user information."""

    code = "request.invalid_input"
    status = 400

    def __init__(self) -> None:
        super().__init__(None)
        self.details["message"] = self.message  # where Logto's `data.message` has it


@router.get(
    "/sign-in-exp",
    response_model=SignInExperienceRead,
    summary="The tenant's sign-in experience",
)
async def get_sign_in_experience(
    tenant: ManagedTenantDep, request: Request
) -> SignInExperienceRead:
    services = services_of(request)
    return SignInExperienceRead.of(await services.sign_in_experience.current(tenant.id), tenant)


@router.patch(
    "/sign-in-exp",
    response_model=SignInExperienceRead,
    summary="Replace the given top-level keys; Logto's rules decide",
    responses=error_responses(*RULE_ERRORS, *EMAIL_BLOCKLIST_POLICY_ERRORS),
)
async def patch_sign_in_experience(
    tenant: ManagedTenantDep, request: Request, body: SignInExperiencePatch
) -> SignInExperienceRead:
    services = services_of(request)
    given = body.model_fields_set
    changes = {DOCUMENT_KEYS[key]: getattr(body, key) for key in given if key in DOCUMENT_KEYS}
    if "social_sign_in_connector_targets" in changes:
        # Logto keeps only targets naming a social connector; phoneauth has none.
        changes["social_sign_in_connector_targets"] = []
    experiences = services.sign_in_experience
    if changes:
        try:
            document = await experiences.update(tenant.id, changes, services.connectors)
        except ValidationError as error:  # a format rule of the merged document (a URL...)
            problems = [
                {"field": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
                for issue in error.errors()
            ]
            raise InvalidInputError("The request is invalid.", errors=problems) from None
    else:
        document = await experiences.current(tenant.id)
    if "verificationCodePolicy" in given:
        policy = body.verificationCodePolicy or VerificationCodePolicy()
        fresh = await services.tenants.get(tenant.id)  # narrow the window for a lost update
        settings = fresh.settings.model_copy(update={"verification_code_policy": policy})
        tenant = await services.tenants.update_settings(tenant.id, settings)
    return SignInExperienceRead.of(document, tenant)


@router.post(
    "/sign-in-exp/default/check-password",
    summary="Check a password against the tenant's password policy",
    responses={
        200: {"description": '`{"result": true}`'},
        400: {"description": '`{"result": false, "issues": [{code, interpolation?}]}`'},
        **error_responses(UserInfoRequiredError, UserNotFoundError),
    },
)
async def check_password(
    tenant: ManagedTenantDep, request: Request, body: PasswordCheck
) -> JSONResponse:
    """Logto's answer: 200 `{result: true}`, or 400 `{result: false, issues}` as a normal body
    (not the error envelope)."""
    services = services_of(request)
    policy = (await services.sign_in_experience.current(tenant.id)).password_policy
    user_info = None
    if body.userId is not None:
        user = await services.users.get(tenant.id, body.userId)
        if user is None:
            raise UserNotFoundError(user_id=body.userId)
        user_info = user_info_of(user)  # name, username, email, phone (Logto)
    elif policy.rejects.user_info:
        raise UserInfoRequiredError()
    issues = await password_issues(
        body.password, policy, user=user_info, pwned=services.pwned_passwords
    )
    if not issues:
        return JSONResponse({"result": True})
    found = [issue.as_json() for issue in issues]
    return JSONResponse({"result": False, "issues": found}, status_code=400)
