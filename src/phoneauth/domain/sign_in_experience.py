"""The sign-in experience: Logto's document (sign-up identifiers, sign-in methods, MFA) per tenant.

Shapes and names are Logto's (reference/logto.md §6.1). The rules that tie the document to an
active SMS connector are checked where it is changed; here are the shapes, the defaults and the
questions the end-user flows ask of it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class SignInIdentifier(StrEnum):
    USERNAME = "username"
    EMAIL = "email"
    PHONE = "phone"


class SignInMode(StrEnum):
    SIGN_IN = "SignIn"
    REGISTER = "Register"
    SIGN_IN_AND_REGISTER = "SignInAndRegister"


class ForgotPasswordMethod(StrEnum):
    EMAIL_VERIFICATION_CODE = "EmailVerificationCode"
    PHONE_VERIFICATION_CODE = "PhoneVerificationCode"


class MfaFactor(StrEnum):
    TOTP = "Totp"
    WEB_AUTHN = "WebAuthn"
    BACKUP_CODE = "BackupCode"
    EMAIL_VERIFICATION_CODE = "EmailVerificationCode"
    PHONE_VERIFICATION_CODE = "PhoneVerificationCode"


class MfaPolicy(StrEnum):
    USER_CONTROLLED = "UserControlled"
    MANDATORY = "Mandatory"
    PROMPT_ONLY_AT_SIGN_IN = "PromptOnlyAtSignIn"
    PROMPT_AT_SIGN_IN_AND_SIGN_UP = "PromptAtSignInAndSignUp"
    NO_PROMPT = "NoPrompt"


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SecondaryIdentifier(_Shape):
    identifier: str = Field(description="`username`, `email`, `phone` or `emailOrPhone`.")
    verify: bool | None = None


class SignUp(_Shape):
    identifiers: list[SignInIdentifier] = Field(default_factory=list)
    password: bool = False
    verify: bool = True
    secondary_identifiers: list[SecondaryIdentifier] = Field(
        default_factory=list, alias="secondaryIdentifiers"
    )


class SignInMethod(_Shape):
    identifier: SignInIdentifier
    password: bool = False
    verification_code: bool = Field(default=False, alias="verificationCode")
    is_password_primary: bool = Field(default=False, alias="isPasswordPrimary")


class SignIn(_Shape):
    methods: list[SignInMethod] = Field(default_factory=list)


class Mfa(_Shape):
    factors: list[MfaFactor] = Field(default_factory=list)
    policy: MfaPolicy = MfaPolicy.USER_CONTROLLED


class SignInExperience(_Shape):
    """Logto's sign-in experience document (the parts phoneauth uses)."""

    sign_up: SignUp = Field(default_factory=SignUp, alias="signUp")
    sign_in: SignIn = Field(default_factory=SignIn, alias="signIn")
    sign_in_mode: SignInMode = Field(default=SignInMode.SIGN_IN_AND_REGISTER, alias="signInMode")
    forgot_password_methods: list[ForgotPasswordMethod] | None = Field(
        default=None, alias="forgotPasswordMethods"
    )
    mfa: Mfa = Field(default_factory=Mfa)

    def phone_sign_up(self) -> bool:
        secondary = {item.identifier for item in self.sign_up.secondary_identifiers}
        return SignInIdentifier.PHONE in self.sign_up.identifiers or bool(
            secondary & {"phone", "emailOrPhone"}
        )

    def phone_code_sign_in(self) -> bool:
        return any(
            m.identifier is SignInIdentifier.PHONE and m.verification_code
            for m in self.sign_in.methods
        )

    def phone_password_sign_in(self) -> bool:
        return any(
            m.identifier is SignInIdentifier.PHONE and m.password for m in self.sign_in.methods
        )

    def phone_mfa(self) -> bool:
        return MfaFactor.PHONE_VERIFICATION_CODE in self.mfa.factors

    def phone_forgot_password(self) -> bool:
        methods = self.forgot_password_methods
        return methods is None or ForgotPasswordMethod.PHONE_VERIFICATION_CODE in methods


def default_sign_in_experience() -> SignInExperience:
    """phoneauth's starting point: sign up and sign in with phone number and SMS code."""
    return SignInExperience.model_validate(
        {
            "signUp": {"identifiers": ["phone"], "password": False, "verify": True},
            "signIn": {
                "methods": [
                    {
                        "identifier": "phone",
                        "password": False,
                        "verificationCode": True,
                        "isPasswordPrimary": False,
                    }
                ]
            },
        }
    )


class SignInExperienceStore(Protocol):
    """One document per tenant; `get` answers None before the first save."""

    async def get(self, tenant_id: str) -> SignInExperience | None: ...
    async def save(self, tenant_id: str, document: SignInExperience) -> SignInExperience: ...


class SignInExperienceSource(Protocol):
    """What the end-user flows read: the tenant's document, the default if never saved."""

    async def current(self, tenant_id: str) -> SignInExperience: ...


class SignInExperiences:
    """Reads and saves the tenant's document; the default until the first save."""

    def __init__(self, store: SignInExperienceStore) -> None:
        self.store = store

    async def current(self, tenant_id: str) -> SignInExperience:
        found = await self.store.get(tenant_id)
        return found if found is not None else default_sign_in_experience()
