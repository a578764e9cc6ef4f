"""The sign-in experience: Logto's document (sign-up identifiers, sign-in methods, MFA) per tenant.

Shapes and names are Logto's (reference/logto.md §6.1). Here are the shapes, the defaults, the
questions the end-user flows ask of it, and the service that changes it; Logto's rules on a change
live in `sign_in_experience_rules`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from phoneauth.domain import sign_in_experience_rules as rules
from phoneauth.domain.email_blocklist import parse_blocklist_policy
from phoneauth.domain.ports import EmailConnectorSource, SmsConnectorSource
from phoneauth.domain.setup_problems import (
    SetupProblems,
    SmsSetupProblem,
    find_setup_problems,
    sms_usable,
)
from phoneauth.domain.sign_in_experience_fields import AdaptiveMfa, DocumentFields
from phoneauth.errors import PhoneauthError


class SignInIdentifier(StrEnum):
    USERNAME = "username"
    EMAIL = "email"
    PHONE = "phone"


class SecondaryIdentifierType(StrEnum):
    """A secondary sign-up identifier: a sign-in identifier, or Logto's `emailOrPhone`."""

    USERNAME = "username"
    EMAIL = "email"
    PHONE = "phone"
    EMAIL_OR_PHONE = "emailOrPhone"


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
    PROMPT_AT_SIGN_IN_AND_SIGN_UP_MANDATORY = "PromptAtSignInAndSignUpMandatory"
    PROMPT_ONLY_AT_SIGN_IN_MANDATORY = "PromptOnlyAtSignInMandatory"


class OrganizationRequiredMfaPolicy(StrEnum):
    NO_PROMPT = "NoPrompt"
    MANDATORY = "Mandatory"


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SecondaryIdentifier(_Shape):
    identifier: SecondaryIdentifierType = Field(
        description="`username`, `email`, `phone` or `emailOrPhone`."
    )
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
    organization_required_mfa_policy: OrganizationRequiredMfaPolicy | None = Field(
        default=None, alias="organizationRequiredMfaPolicy"
    )


class SignInExperience(DocumentFields):
    """Logto's sign-in experience document: the parts phoneauth's flows use here, the rest in
    `DocumentFields`."""

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
        return self.password_sign_in(SignInIdentifier.PHONE)

    def password_sign_in(self, identifier: SignInIdentifier) -> bool:
        """Logto's sign-in method check for a password record: a `signIn.methods` entry with
        this identifier and `password: true`."""
        return any(m.identifier is identifier and m.password for m in self.sign_in.methods)

    def phone_mfa(self) -> bool:
        return MfaFactor.PHONE_VERIFICATION_CODE in self.mfa.factors

    def phone_forgot_password(self) -> bool:
        methods = self.forgot_password_methods
        return methods is None or ForgotPasswordMethod.PHONE_VERIFICATION_CODE in methods

    def email_code_sign_in(self) -> bool:
        return any(
            m.identifier is SignInIdentifier.EMAIL and m.verification_code
            for m in self.sign_in.methods
        )

    def email_forgot_password(self) -> bool:
        methods = self.forgot_password_methods
        return methods is None or ForgotPasswordMethod.EMAIL_VERIFICATION_CODE in methods

    def sms_features(self) -> tuple[str, ...]:
        """What stops working without an SMS connector, in the words of the console's forms."""
        found: list[str] = []
        if self.phone_sign_up():
            found.append("sign-up with a phone number")
        if self.phone_code_sign_in():
            found.append("sign-in with a code by SMS")
        methods = self.forgot_password_methods
        if (methods is None and self.phone_password_sign_in()) or (
            methods is not None and ForgotPasswordMethod.PHONE_VERIFICATION_CODE in methods
        ):
            found.append("password reset by SMS")
        if self.phone_mfa():
            found.append("two-step verification by SMS")
        return tuple(found)

    def sms_dependents(self) -> list[str]:
        """The settings that stop working without an SMS connector, named for an admin."""
        found = [
            f"signUp.identifiers: {identifier.value}"
            for identifier in self.sign_up.identifiers
            if identifier is SignInIdentifier.PHONE
        ]
        found += [
            f"signUp.secondaryIdentifiers: {item.identifier.value}"
            for item in self.sign_up.secondary_identifiers
            if item.identifier
            in (SecondaryIdentifierType.PHONE, SecondaryIdentifierType.EMAIL_OR_PHONE)
        ]
        if self.phone_code_sign_in():
            found.append("signIn.methods: phone + verification code")
        methods = self.forgot_password_methods
        if methods is not None and ForgotPasswordMethod.PHONE_VERIFICATION_CODE in methods:
            found.append("forgotPasswordMethods: PhoneVerificationCode")
        elif methods is None and self.phone_password_sign_in():
            found.append("signIn.methods: phone + password (forgot password by SMS)")
        if self.phone_mfa():
            found.append("mfa.factors: PhoneVerificationCode")
        return found

    def email_sign_up(self) -> bool:
        secondary = {item.identifier for item in self.sign_up.secondary_identifiers}
        primary = {str(identifier) for identifier in self.sign_up.identifiers}
        return bool((primary | secondary) & {"email", "emailOrPhone"})

    def email_password_sign_in(self) -> bool:
        return any(m.identifier == "email" and m.password for m in self.sign_in.methods)

    def email_mfa(self) -> bool:
        return "EmailVerificationCode" in {str(factor) for factor in self.mfa.factors}

    def email_features(self) -> tuple[str, ...]:
        """What stops working without an Email connector, in the words of the console's forms
        (the settings Logto's rules refuse to save without one, `email_dependents`)."""
        found: list[str] = []
        if self.email_sign_up():
            found.append("sign-up with an email address")
        if self.email_code_sign_in():
            found.append("sign-in with a code by email")
        methods = self.forgot_password_methods
        if (methods is None and self.email_password_sign_in()) or (
            methods is not None and "EmailVerificationCode" in {str(m) for m in methods}
        ):
            found.append("password reset by email")
        if self.email_mfa():
            found.append("two-step verification by email")
        return tuple(found)

    def email_dependents(self) -> list[str]:
        """The settings that stop working without an Email connector, named as the rules name
        them (`sign_in_experience_rules`: identifiers, code sign-in, reset, MFA)."""
        found = [
            f"signUp.identifiers: {identifier}"
            for identifier in map(str, self.sign_up.identifiers)
            if identifier in ("email", "emailOrPhone")
        ]
        found += [
            f"signUp.secondaryIdentifiers: {item.identifier}"
            for item in self.sign_up.secondary_identifiers
            if str(item.identifier) in ("email", "emailOrPhone")
        ]
        if self.email_code_sign_in():
            found.append("signIn.methods: email + verification code")
        methods = self.forgot_password_methods
        if methods is not None and "EmailVerificationCode" in {str(m) for m in methods}:
            found.append("forgotPasswordMethods: EmailVerificationCode")
        elif methods is None and self.email_password_sign_in():
            found.append("signIn.methods: email + password (forgot password by email)")
        if self.email_mfa():
            found.append("mfa.factors: EmailVerificationCode")
        return found


@cache
def default_sign_in_experience(*, has_sms: bool) -> SignInExperience:
    """phoneauth's starting point: sign up and sign in with phone number and SMS code, once the
    tenant can send an SMS.

    Built once for each answer and shared, as the saved documents the store's cache hands out
    are: every Experience request of a tenant that never saved reads it, and validating it anew
    cost more than the rest of the lookup. Nobody changes a document in place.

    Before that the default offers nothing that needs SMS (no sign-up identifier, no sign-in
    method): Logto's rules refuse to save phone sign-in without an SMS connector, so the default
    must not start in that state either. A tenant that never saved its document follows this
    default, so its first SMS connector switches phone sign-in on and losing it switches it off.
    """
    if not has_sms:
        return SignInExperience.model_validate(
            {"signUp": {"identifiers": [], "password": False, "verify": True}, "signIn": {}}
        )
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


DOCUMENT_KEYS = {field.alias or name: name for name, field in SignInExperience.model_fields.items()}
"""Logto's top-level key → our field name, for the keys a change may carry."""


class ConnectorInUseError(PhoneauthError):
    """The sign-in experience depends on this connector: change those settings first, or delete
    without `?ifUnused=true`."""

    code = "connector.in_use_by_sign_in_experience"
    status = 409


class SignInExperiences:
    """Reads and saves the tenant's document; the default until the first save."""

    def __init__(self, store: SignInExperienceStore, connectors: SmsConnectorSource) -> None:
        self.store = store
        self.connectors = connectors

    async def current(self, tenant_id: str) -> SignInExperience:
        found = await self.store.get(tenant_id)
        if found is not None:
            return found
        return default_sign_in_experience(has_sms=await sms_usable(self.connectors, tenant_id))

    async def setup_problems(self, tenant_id: str) -> SetupProblems:
        """What end users cannot do for want of a connector: what every console page warns
        about (`setup_problems.find_setup_problems`)."""
        return await find_setup_problems(
            await self.store.get(tenant_id), self.connectors, tenant_id
        )

    async def sms_setup_problem(self, tenant_id: str) -> SmsSetupProblem | None:
        return (await self.setup_problems(tenant_id)).sms

    async def email_setup_problem(self, tenant_id: str) -> tuple[str, ...]:
        return (await self.setup_problems(tenant_id)).email

    async def update(
        self, tenant_id: str, changes: dict[str, Any], connectors: SmsConnectorSource
    ) -> SignInExperience:
        """Merge `changes` (field name → parsed value) into the current document and save it if
        Logto's rules for the changed fields hold.

        Raises:
            rules.SignInExperienceRuleError: a subclass per Logto code; nothing is saved.
            InvalidCustomBlocklistError, DisposableCheckUnavailableError: a malformed
                `emailBlocklistPolicy`.
        """
        unknown = set(changes) - set(DOCUMENT_KEYS.values())
        if unknown:
            raise ValueError(f"not sign-in experience fields: {sorted(unknown)}")
        current = await self.current(tenant_id)
        document = SignInExperience.model_validate(current.model_dump() | changes)
        if "email_blocklist_policy" in changes:
            document.email_blocklist_policy = parse_blocklist_policy(
                document.email_blocklist_policy
            )
        has_sms = await connectors.active_sms_connector(tenant_id) is not None
        has_email = (
            isinstance(connectors, EmailConnectorSource)
            and await connectors.active_email_connector(tenant_id) is not None
        )
        rules.check_changes(document, set(changes), has_sms=has_sms, has_email=has_email)
        if "mfa" in changes and not document.mfa.factors and "adaptive_mfa" not in changes:
            # Logto: MFA switched off without a word on adaptive MFA switches that off too.
            document.adaptive_mfa = AdaptiveMfa(enabled=False)
        return await self.store.save(tenant_id, document)

    async def ensure_sms_connector_removable(self, tenant_id: str) -> None:
        """Refuse to lose the SMS connector while the document depends on it: the opt-in guard
        (Logto has none; its console only warns, and sign-in breaks after the deletion).

        Raises:
            ConnectorInUseError: `details.dependents` names each dependent setting.
        """
        dependents = (await self.current(tenant_id)).sms_dependents()
        if dependents:
            raise ConnectorInUseError(
                "The sign-in experience uses this SMS connector: "
                + "; ".join(dependents)
                + ". Change those settings first, or delete without ?ifUnused=true.",
                type="Sms",
                dependents=dependents,
            )

    async def ensure_email_connector_removable(self, tenant_id: str) -> None:
        """The same guard for the Email connector.

        Raises:
            ConnectorInUseError: `details.dependents` names each dependent setting.
        """
        dependents = (await self.current(tenant_id)).email_dependents()
        if dependents:
            raise ConnectorInUseError(
                "The sign-in experience uses this Email connector: "
                + "; ".join(dependents)
                + ". Change those settings first, or delete without ?ifUnused=true.",
                type="Email",
                dependents=dependents,
            )
