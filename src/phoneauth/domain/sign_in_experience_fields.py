"""The rest of Logto's sign-in experience document (logto-parity §6.1): branding, links, policies
and switches that phoneauth keeps and returns as Logto does, with Logto's defaults.

phoneauth's pages use few of them; they are stored so that a Logto client reads back what it
wrote. A stored document from before these fields existed reads with the defaults filled in.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from phoneauth.domain.password_policy import PasswordPolicy

_HEX = r"^#[0-9A-Fa-f]{6}$"
_URL = re.compile(r"^https?://\S+$")
_EMAIL = re.compile(r"^\S+@\S+\.\S+$")  # Logto's emailRegEx


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Partial(Shape):
    """A Logto object whose keys are all optional: a key not given is not shown."""

    @model_serializer(mode="wrap")
    def _without_unset(
        self, handler: SerializerFunctionWrapHandler, _info: SerializationInfo
    ) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class AgreeToTermsPolicy(StrEnum):
    AUTOMATIC = "Automatic"
    MANUAL_REGISTRATION_ONLY = "ManualRegistrationOnly"
    MANUAL = "Manual"


class Color(Shape):
    primary_color: str = Field(default="#6139F6", alias="primaryColor", pattern=_HEX)
    is_dark_mode_enabled: bool = Field(default=False, alias="isDarkModeEnabled")
    dark_primary_color: str = Field(default="#8453FF", alias="darkPrimaryColor", pattern=_HEX)


class Branding(Partial):
    logo_url: str | None = Field(default=None, alias="logoUrl", max_length=2048)
    dark_logo_url: str | None = Field(default=None, alias="darkLogoUrl", max_length=2048)
    favicon: str | None = Field(default=None, max_length=2048)
    dark_favicon: str | None = Field(default=None, alias="darkFavicon", max_length=2048)


class LanguageInfo(Shape):
    auto_detect: bool = Field(default=True, alias="autoDetect")
    fallback_language: str = Field(default="en", alias="fallbackLanguage", max_length=16)


class SocialSignIn(Partial):
    automatic_account_linking: bool | None = Field(default=None, alias="automaticAccountLinking")
    skip_required_identifiers: bool | None = Field(default=None, alias="skipRequiredIdentifiers")


class CustomUiAssets(Shape):
    id: str = Field(max_length=128)
    created_at: int = Field(alias="createdAt")


class AdaptiveMfa(Partial):
    enabled: bool | None = None


class CaptchaPolicy(Partial):
    enabled: bool | None = None


class SentinelPolicy(Partial):
    max_attempts: int | None = Field(default=None, alias="maxAttempts", ge=1)
    lockout_duration: int | None = Field(default=None, alias="lockoutDuration", ge=1)


class EmailBlocklistPolicy(Partial):
    block_disposable_addresses: bool | None = Field(default=None, alias="blockDisposableAddresses")
    block_subaddressing: bool | None = Field(default=None, alias="blockSubaddressing")
    custom_allowlist: list[str] | None = Field(default=None, alias="customAllowlist")
    custom_blocklist: list[str] | None = Field(default=None, alias="customBlocklist")


class PasskeySignIn(Partial):
    enabled: bool | None = None
    show_passkey_button: bool | None = Field(default=None, alias="showPasskeyButton")
    allow_autofill: bool | None = Field(default=None, alias="allowAutofill")


class PasswordExpiration(Partial):
    enabled: bool | None = None
    valid_period_days: int | None = Field(default=None, alias="validPeriodDays", gt=0)
    enabled_at: int | None = Field(default=None, alias="enabledAt")

    @model_validator(mode="after")
    def _period_when_enabled(self) -> PasswordExpiration:
        if self.enabled and self.valid_period_days is None:
            raise ValueError("validPeriodDays is required when enabled is true")
        return self


class SignUpProfileField(Shape):
    name: str = Field(min_length=1, max_length=128)


class AllowedChars(Shape):
    lowercase: bool = True
    uppercase: bool = True
    numbers: bool = True
    underscore: bool = True


class UsernamePolicy(Shape):
    """Logto's `usernamePolicy` (logto-parity §2.2)."""

    case_sensitive: bool = Field(default=True, alias="caseSensitive")
    min_length: int = Field(default=1, ge=1, le=128, alias="minLength")
    max_length: int = Field(default=128, ge=1, le=128, alias="maxLength")
    allowed_chars: AllowedChars = Field(default_factory=AllowedChars, alias="allowedChars")

    @model_validator(mode="after")
    def _coherent(self) -> UsernamePolicy:
        if self.min_length > self.max_length:
            raise ValueError("minLength may not be greater than maxLength")
        chars = self.allowed_chars
        if not (chars.lowercase or chars.uppercase or chars.underscore):
            raise ValueError("allow at least one of lowercase, uppercase or underscore")
        return self


class DocumentFields(Shape):
    """Logto's keys beside sign-up, sign-in and MFA, with the defaults of a fresh Logto tenant
    (the branding is empty: phoneauth shows no Logto logo)."""

    color: Color = Field(default_factory=Color)
    branding: Branding = Field(default_factory=Branding)
    hide_logto_branding: bool = Field(default=False, alias="hideLogtoBranding")
    language_info: LanguageInfo = Field(default_factory=LanguageInfo, alias="languageInfo")
    terms_of_use_url: str | None = Field(default=None, alias="termsOfUseUrl", max_length=2048)
    privacy_policy_url: str | None = Field(default=None, alias="privacyPolicyUrl", max_length=2048)
    support_email: str | None = Field(default=None, alias="supportEmail", max_length=256)
    support_website_url: str | None = Field(
        default=None, alias="supportWebsiteUrl", max_length=2048
    )
    unknown_session_redirect_url: str | None = Field(
        default=None, alias="unknownSessionRedirectUrl", max_length=2048
    )
    agree_to_terms_policy: AgreeToTermsPolicy = Field(
        default=AgreeToTermsPolicy.AUTOMATIC, alias="agreeToTermsPolicy"
    )
    social_sign_in: SocialSignIn = Field(default_factory=SocialSignIn, alias="socialSignIn")
    social_sign_in_connector_targets: list[str] = Field(
        default_factory=list, alias="socialSignInConnectorTargets"
    )
    custom_css: str | None = Field(default=None, alias="customCss", max_length=100_000)
    custom_content: dict[str, str] = Field(default_factory=dict, alias="customContent")
    custom_ui_assets: CustomUiAssets | None = Field(default=None, alias="customUiAssets")
    custom_ui_csp: dict[str, Any] = Field(default_factory=dict, alias="customUiCsp")
    password_policy: PasswordPolicy = Field(default_factory=PasswordPolicy, alias="passwordPolicy")
    adaptive_mfa: AdaptiveMfa = Field(default_factory=AdaptiveMfa, alias="adaptiveMfa")
    single_sign_on_enabled: bool = Field(default=False, alias="singleSignOnEnabled")
    captcha_policy: CaptchaPolicy = Field(default_factory=CaptchaPolicy, alias="captchaPolicy")
    sentinel_policy: SentinelPolicy = Field(default_factory=SentinelPolicy, alias="sentinelPolicy")
    email_blocklist_policy: EmailBlocklistPolicy = Field(
        default_factory=EmailBlocklistPolicy, alias="emailBlocklistPolicy"
    )
    passkey_sign_in: PasskeySignIn = Field(default_factory=PasskeySignIn, alias="passkeySignIn")
    sign_up_profile_fields: list[SignUpProfileField] | None = Field(
        default=None, alias="signUpProfileFields"
    )
    password_expiration: PasswordExpiration = Field(
        default_factory=PasswordExpiration, alias="passwordExpiration"
    )
    username_policy: UsernamePolicy = Field(default_factory=UsernamePolicy, alias="usernamePolicy")

    @field_validator(
        "terms_of_use_url",
        "privacy_policy_url",
        "support_website_url",
        "unknown_session_redirect_url",
    )
    @classmethod
    def _url_or_empty(cls, value: str | None) -> str | None:
        if value and not _URL.match(value):
            raise ValueError("must be an http(s) URL, '' or null")
        return value

    @field_validator("support_email")
    @classmethod
    def _email_or_empty(cls, value: str | None) -> str | None:
        if value and not _EMAIL.match(value):
            raise ValueError("must be an email address, '' or null")
        return value
