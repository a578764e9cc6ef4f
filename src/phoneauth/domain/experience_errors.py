"""The Experience API's refusals, with Logto's codes and statuses (reference/logto.md §5.2, §10)."""

from __future__ import annotations

from phoneauth.domain.verification_code_errors import PhoneMismatchError as PhoneMismatchError
from phoneauth.errors import PhoneauthError


class EventForbiddenError(PhoneauthError):
    """The sign-in experience does not allow this: sign-in or registration is turned off."""

    code = "auth.forbidden"
    status = 403


class NotSupportedForForgotPasswordError(PhoneauthError):
    """This operation is not supported for forgot password."""

    code = "session.not_supported_for_forgot_password"
    status = 400


class ForgotPasswordMethodError(NotSupportedForForgotPasswordError):
    """Only a phone verification code can identify the user who forgot the password."""

    status = 422


class ForgotPasswordNotEnabledError(PhoneauthError):
    """Resetting a password by SMS is not enabled in the sign-in experience."""

    code = "session.forgot_password_not_enabled"
    status = 422


class InvalidInteractionTypeError(PhoneauthError):
    """This step does not belong to the current interaction event."""

    code = "session.invalid_interaction_type"
    status = 400


class VerificationFailedError(PhoneauthError):
    """The verification was not successful. Restart the verification flow and try again."""

    code = "session.verification_failed"
    status = 400


class VerificationIdMissingError(PhoneauthError):
    """`verificationId` is missing: sign-in and password reset identify by a verification."""

    code = "guard.invalid_input"
    status = 400


class IdentifierNotFoundError(PhoneauthError):
    """No user is identified in this interaction yet: identify first."""

    code = "session.identifier_not_found"
    status = 404


class IdentityConflictError(PhoneauthError):
    """This interaction has already identified a different user."""

    code = "session.identity_conflict"
    status = 409


class InvalidCredentialsError(PhoneauthError):
    """Incorrect account or password. Please check your input."""

    code = "session.invalid_credentials"
    status = 422


class SignInMethodNotEnabledError(PhoneauthError):
    """This sign-in method is not enabled in the sign-in experience."""

    code = "user.sign_in_method_not_enabled"
    status = 422


class EmailExistsInProfileError(PhoneauthError):
    """The account already has an email address."""

    code = "user.email_exists_in_profile"
    status = 422


class PhoneExistsInProfileError(PhoneauthError):
    """The account already has a phone number."""

    code = "user.phone_exists_in_profile"
    status = 422


class UsernameExistsInProfileError(PhoneauthError):
    """The account already has a username."""

    code = "user.username_exists_in_profile"
    status = 422


class PasswordExistsInProfileError(PhoneauthError):
    """The account already has a password."""

    code = "user.password_exists_in_profile"
    status = 422


class MissingProfileError(PhoneauthError):
    """You need to provide additional info before signing-in."""

    code = "user.missing_profile"
    status = 422

    def __init__(self, missing: list[str]) -> None:
        # Logto's `data.missingProfile` (logto-parity §3.6); `details` keeps the same list for
        # clients written against phoneauth's earlier answer.
        super().__init__(None, missingProfile=missing)
        self.data = {"missingProfile": list(missing)}


class NewPasswordRequiredError(PhoneauthError):
    """Set the new password first (`PUT /api/experience/profile/password`)."""

    code = "user.new_password_required_in_profile"
    status = 422


class MfaRequiredError(PhoneauthError):
    """MFA verification is required to sign in: verify the code sent to the masked phone."""

    code = "session.mfa.require_mfa_verification"
    status = 403

    def __init__(self, masked_phone: str) -> None:
        super().__init__(
            None,
            availableFactors=["PhoneVerificationCode"],
            maskedIdentifiers={"PhoneVerificationCode": masked_phone},
        )


class MfaFactorNotEnabledError(PhoneauthError):
    """SMS as a second factor is not available: not enabled, or the account has no phone."""

    code = "session.mfa.mfa_factor_not_enabled"
    status = 400


class MissingMfaError(PhoneauthError):
    """The sign-in experience requires a second factor: bind a phone first."""

    code = "user.missing_mfa"
    status = 422

    def __init__(self) -> None:
        super().__init__(None, availableFactors=["PhoneVerificationCode"])
