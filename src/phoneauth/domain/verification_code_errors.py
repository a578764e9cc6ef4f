"""The refusals of the code engine, with Logto's codes and statuses.

Its own module because the web layer maps them to answers and the Experience API re-exports one,
without either needing the engine that raises them (reference/logto.md section 10).
"""

from __future__ import annotations

from phoneauth.errors import PhoneauthError


class VerificationCodeError(PhoneauthError):
    """The verification code was not accepted."""

    code = "verification_code.general"
    status = 400


class CodeNotFoundError(VerificationCodeError):
    """No verification code is waiting for this phone number; request one first."""

    code = "verification_code.not_found"


class CodeExpiredError(VerificationCodeError):
    """The verification code has expired; request a new one."""

    code = "verification_code.expired"


class CodeMaxTriesError(VerificationCodeError):
    """Too many wrong tries for this verification code; request a new one."""

    code = "verification_code.exceed_max_try"


class CodeMismatchError(VerificationCodeError):
    """The verification code is wrong."""

    code = "verification_code.code_mismatch"


class PhoneMismatchError(VerificationCodeError):
    """Phone mismatch: this verification was started for another phone number."""

    code = "verification_code.phone_mismatch"


class EmailMismatchError(VerificationCodeError):
    """Email mismatch: this verification was started for another email address."""

    code = "verification_code.email_mismatch"


class NoEmailConnectorError(PhoneauthError):
    """Cannot find any available connector for type: Email."""

    code = "connector.not_found"
    status = 501

    def __init__(self) -> None:
        super().__init__(None, type="Email")


class NoSmsConnectorError(PhoneauthError):
    """Cannot find any available connector for type: Sms."""

    code = "connector.not_found"
    status = 501

    def __init__(self) -> None:
        super().__init__(None, type="Sms")
