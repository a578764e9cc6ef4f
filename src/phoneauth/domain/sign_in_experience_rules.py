"""Logto's rules on a sign-in experience change (reference/logto-parity.md 6.2), each with Logto's
code, in Logto's order.

As in Logto's `PATCH /api/sign-in-exp`, a rule runs for the fields a change carries, and reads
the merged document for the other side of a cross-field rule. Logto's order: the sign-up rules
(`signUp` sent), the sign-in rules (`signIn` sent; they read the sent or stored sign-up and MFA),
the MFA rules (`mfa` sent; they read the sent or stored sign-in), then the forgot-password
methods. Whatever needs an email (SMS) connector is refused while the tenant has no Email (SMS)
connector.

Ours on top of Logto run after all of Logto's, so wherever Logto refuses a change its code is the
one answered: every primary sign-up identifier is a sign-in method (Logto's leftover
`miss_sign_up_identifier_in_sign_in`), a sign-up change re-checks the sign-in rule that reads it
(`code_sign_in_must_be_enabled`), and an SMS or email MFA factor needs its connector (Logto's
console says so; its server does not check).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from phoneauth.errors import PhoneauthError

if TYPE_CHECKING:  # the model module imports this one
    from phoneauth.domain.sign_in_experience import ForgotPasswordMethod, SignInExperience

SMS = "Sms"
EMAIL = "Email"
"""Logto's connector types, as `details.type` names them."""

_CONNECTORS_OF = {
    "username": (),
    "email": (EMAIL,),
    "phone": (SMS,),
    "emailOrPhone": (EMAIL, SMS),
}
"""The connector types a sign-up identifier needs, in the order Logto checks them."""


class SignInExperienceRuleError(PhoneauthError):
    """The sign-in experience breaks one of its rules."""

    code = "sign_in_experiences.invalid"
    status = 400


class ConnectorRequiredError(SignInExperienceRuleError):
    """Enabled connector not found."""

    code = "sign_in_experiences.enabled_connector_not_found"

    def __init__(self, connector_type: str, setting: str) -> None:
        super().__init__(
            f"Enabled {connector_type} connector not found.", type=connector_type, setting=setting
        )


class MissingSignUpIdentifiersError(SignInExperienceRuleError):
    """Primary sign-up identifier cannot be empty."""

    code = "sign_in_experiences.missing_sign_up_identifiers"


class DuplicatedSignUpIdentifiersError(SignInExperienceRuleError):
    """Duplicate sign-up identifiers detected."""

    code = "sign_in_experiences.duplicated_sign_up_identifiers"


class PasswordlessRequiresVerifyError(SignInExperienceRuleError):
    """Must enable verify for email/phone sign up identifier."""

    code = "sign_in_experiences.passwordless_requires_verify"


class SignUpIdentifierNotInSignInError(SignInExperienceRuleError):
    """Sign in methods must contain the sign up identifier."""

    code = "sign_in_experiences.miss_sign_up_identifier_in_sign_in"


class AuthenticationFactorRequiredError(SignInExperienceRuleError):
    """You have to select at least one authentication factor."""

    code = "sign_in_experiences.at_least_one_authentication_factor"


class CodeSignInRequiredError(SignInExperienceRuleError):
    """Verification code sign in must be enabled when set a password is not required in sign up."""

    code = "sign_in_experiences.code_sign_in_must_be_enabled"


class EmailCodeCannotBeUsedForSignInError(SignInExperienceRuleError):
    """Email verification code cannot be used for sign-in when it is enabled for MFA."""

    code = "sign_in_experiences.email_verification_code_cannot_be_used_for_sign_in"


class EmailCodeCannotBeUsedForMfaError(SignInExperienceRuleError):
    """Email verification code cannot be used for MFA when email verification is enabled for
    sign-in."""

    code = "sign_in_experiences.email_verification_code_cannot_be_used_for_mfa"


class PhoneCodeCannotBeUsedForSignInError(SignInExperienceRuleError):
    """SMS verification code cannot be used for sign-in when it is enabled for MFA."""

    code = "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in"


class PhoneCodeCannotBeUsedForMfaError(SignInExperienceRuleError):
    """SMS verification code cannot be used for MFA when SMS verification is enabled for sign-in."""

    code = "sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa"


class DuplicatedMfaFactorsError(SignInExperienceRuleError):
    """Duplicated MFA factors."""

    code = "sign_in_experiences.duplicated_mfa_factors"


class BackupCodeAloneError(SignInExperienceRuleError):
    """Backup code cannot be enabled alone."""

    code = "sign_in_experiences.backup_code_cannot_be_enabled_alone"


class ForgotPasswordConnectorError(SignInExperienceRuleError):
    """Forgot password method requires a corresponding connector to be configured."""

    code = "sign_in_experiences.forgot_password_method_requires_connector"

    def __init__(self, method: str) -> None:
        super().__init__(
            f"Forgot password method requires a corresponding {method} connector to be configured.",
            method=method,
        )


class AdaptiveMfaRequiresMfaError(SignInExperienceRuleError):
    """Adaptive MFA requires MFA to be enabled."""

    code = "sign_in_experiences.adaptive_mfa_requires_mfa"
    status = 422


class AdaptiveMfaPolicyError(SignInExperienceRuleError):
    """Adaptive MFA requires a non-skippable MFA policy."""

    code = "sign_in_experiences.adaptive_mfa_requires_non_skippable_policy"
    status = 422


class NonAdaptiveMfaPolicyError(SignInExperienceRuleError):
    """Non-adaptive MFA requires a skippable MFA policy."""

    code = "sign_in_experiences.non_adaptive_mfa_requires_skippable_policy"
    status = 422


ADAPTIVE_POLICIES = frozenset({"PromptAtSignInAndSignUpMandatory", "PromptOnlyAtSignInMandatory"})
"""The `...Mandatory` prompts: the policies adaptive MFA goes with, and only it."""


RULE_ERRORS: tuple[type[SignInExperienceRuleError], ...] = (
    ConnectorRequiredError,
    MissingSignUpIdentifiersError,
    DuplicatedSignUpIdentifiersError,
    PasswordlessRequiresVerifyError,
    SignUpIdentifierNotInSignInError,
    AuthenticationFactorRequiredError,
    CodeSignInRequiredError,
    EmailCodeCannotBeUsedForSignInError,
    PhoneCodeCannotBeUsedForSignInError,
    EmailCodeCannotBeUsedForMfaError,
    PhoneCodeCannotBeUsedForMfaError,
    DuplicatedMfaFactorsError,
    BackupCodeAloneError,
    ForgotPasswordConnectorError,
    AdaptiveMfaRequiresMfaError,
    AdaptiveMfaPolicyError,
    NonAdaptiveMfaPolicyError,
)
"""Every code a change may be refused with (for the OpenAPI document)."""


def check_changes(
    document: SignInExperience, changed: set[str], *, has_sms: bool, has_email: bool = False
) -> None:
    """Raise the first broken rule among those the changed fields (our field names) touch."""
    connectors = ({SMS} if has_sms else set()) | ({EMAIL} if has_email else set())
    if "sign_up" in changed:
        _check_sign_up(document, connectors)
    if "sign_in" in changed:
        _check_sign_in(document, connectors)
    if "mfa" in changed:
        _check_mfa(document)
    if changed & {"mfa", "adaptive_mfa"}:
        _check_adaptive_mfa(document, sent_adaptive="adaptive_mfa" in changed)
    if "forgot_password_methods" in changed:
        _check_forgot_password(document.forgot_password_methods, connectors)
    _check_ours(document, changed, connectors)


def _require(needed: Iterable[str], connectors: set[str], setting: str) -> None:
    for connector_type in needed:
        if connector_type not in connectors:
            raise ConnectorRequiredError(connector_type, setting)


def _check_sign_up(document: SignInExperience, connectors: set[str]) -> None:
    """Logto's `validateSignUp`: primary present, no duplicates, verify, then connectors."""
    sign_up = document.sign_up
    primaries = [str(identifier) for identifier in sign_up.identifiers]
    secondaries = [str(item.identifier) for item in sign_up.secondary_identifiers]
    if secondaries and not primaries:
        raise MissingSignUpIdentifiersError(setting="signUp.identifiers")
    everything = primaries + secondaries
    either_clash = "emailOrPhone" in secondaries and bool({"email", "phone"} & set(everything))
    if len(set(everything)) != len(everything) or either_clash:
        raise DuplicatedSignUpIdentifiersError(identifiers=everything)
    if not sign_up.verify and any(identifier != "username" for identifier in everything):
        raise PasswordlessRequiresVerifyError(setting="signUp.verify")
    for item in sign_up.secondary_identifiers:
        if item.identifier != "username" and not item.verify:
            raise PasswordlessRequiresVerifyError(
                setting="signUp.secondaryIdentifiers.verify", identifier=str(item.identifier)
            )
    # Logto asks for the Email connector first, then the SMS one, whatever the list order.
    for connector_type in (EMAIL, SMS):
        for identifier in primaries:
            if connector_type in _CONNECTORS_OF[identifier]:
                _require((connector_type,), connectors, f"signUp.identifiers: {identifier}")
        for identifier in secondaries:
            if connector_type in _CONNECTORS_OF[identifier]:
                setting = f"signUp.secondaryIdentifiers: {identifier}"
                _require((connector_type,), connectors, setting)


def _check_sign_in(document: SignInExperience, connectors: set[str]) -> None:
    """Logto's `validateSignIn`: connectors (Email, then SMS), a factor per method, code sign-in
    when sign-up sets no password, then no code sign-in that is also an MFA factor."""
    methods = document.sign_in.methods
    for identifier, connector_type in (("email", EMAIL), ("phone", SMS)):
        if any(m.identifier == identifier and m.verification_code for m in methods):
            _require(
                (connector_type,), connectors, f"signIn.methods: {identifier} + verification code"
            )
    for method in methods:
        if not (method.password or method.verification_code):
            raise AuthenticationFactorRequiredError(identifier=str(method.identifier))
    _check_code_sign_in(document)
    if document.email_mfa() and document.email_code_sign_in():
        raise EmailCodeCannotBeUsedForSignInError(setting="signIn.methods")
    if document.phone_mfa() and document.phone_code_sign_in():
        raise PhoneCodeCannotBeUsedForSignInError(setting="signIn.methods")


def _check_code_sign_in(document: SignInExperience) -> None:
    sign_up = document.sign_up
    if sign_up.verify and not sign_up.password:
        for method in document.sign_in.methods:
            if not method.verification_code and method.identifier != "username":
                raise CodeSignInRequiredError(identifier=str(method.identifier))


def _check_mfa(document: SignInExperience) -> None:
    """Logto's `validateMfa`: duplicates, backup code alone, then no factor that is also a code
    sign-in method."""
    factors = [str(factor) for factor in document.mfa.factors]
    if len(set(factors)) != len(factors):
        raise DuplicatedMfaFactorsError(factors=factors)
    if factors == ["BackupCode"]:
        raise BackupCodeAloneError()
    if document.email_mfa() and document.email_code_sign_in():
        raise EmailCodeCannotBeUsedForMfaError(setting="mfa.factors")
    if document.phone_mfa() and document.phone_code_sign_in():
        raise PhoneCodeCannotBeUsedForMfaError(setting="mfa.factors")


def _check_forgot_password(
    methods: list[ForgotPasswordMethod] | None, connectors: set[str]
) -> None:
    for method in methods or ():
        if method == "EmailVerificationCode" and EMAIL not in connectors:
            raise ForgotPasswordConnectorError("email")
        if method == "PhoneVerificationCode" and SMS not in connectors:
            raise ForgotPasswordConnectorError("sms")


def _check_adaptive_mfa(document: SignInExperience, *, sent_adaptive: bool) -> None:
    """Logto's adaptive MFA rules (422). An adaptive state never set (`{}`) constrains nothing
    when only `mfa` changes."""
    enabled = document.adaptive_mfa.enabled
    policy = document.mfa.policy.value
    if enabled is True:
        if sent_adaptive and not document.mfa.factors:
            raise AdaptiveMfaRequiresMfaError()
        if document.mfa.factors and policy not in ADAPTIVE_POLICIES:
            raise AdaptiveMfaPolicyError(policy=policy)
    elif enabled is False and document.mfa.factors and policy in ADAPTIVE_POLICIES:
        raise NonAdaptiveMfaPolicyError(policy=policy)


def _check_ours(document: SignInExperience, changed: set[str], connectors: set[str]) -> None:
    """phoneauth's rules beyond Logto's, last, so they never hide one of Logto's codes."""
    if "sign_up" in changed and "sign_in" not in changed:
        _check_code_sign_in(document)  # Logto checks it only when `signIn` is sent
    if changed & {"sign_up", "sign_in"}:
        offered = {method.identifier for method in document.sign_in.methods}
        missing = [str(i) for i in document.sign_up.identifiers if i not in offered]
        if missing:
            raise SignUpIdentifierNotInSignInError(identifiers=missing)
    if "mfa" in changed:
        factors = document.mfa.factors
        if "EmailVerificationCode" in factors:
            _require((EMAIL,), connectors, "mfa.factors: EmailVerificationCode")
        if "PhoneVerificationCode" in factors:
            _require((SMS,), connectors, "mfa.factors: PhoneVerificationCode")
