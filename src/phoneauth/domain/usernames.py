"""Logto's username policy check (`usernamePolicy`, logto-parity §2.2): the first violation
wins, each a 422 `user.username_<violation>`."""

from __future__ import annotations

import re

from phoneauth.domain.sign_in_experience_fields import UsernamePolicy
from phoneauth.errors import PhoneauthError

USERNAME = re.compile(r"^[A-Z_a-z]\w*$", re.ASCII)
"""Logto's `usernameRegEx`: ASCII letters, digits and `_`, not starting with a digit."""


class UsernameRejectedError(PhoneauthError):
    """The username does not meet the tenant's username policy."""

    code = "user.username_invalid"
    status = 422


class UsernameRequiredError(UsernameRejectedError):
    """Username is required."""

    code = "user.username_required"


class UsernameStartsWithNumberError(UsernameRejectedError):
    """Username cannot start with a number."""

    code = "user.username_starts_with_number"


class UsernameCharsetError(UsernameRejectedError):
    """Username may contain only letters, numbers and underscores."""

    code = "user.username_invalid_charset_hard"


class UsernameTooShortError(UsernameRejectedError):
    """Username is too short."""

    code = "user.username_too_short"


class UsernameTooLongError(UsernameRejectedError):
    """Username is too long."""

    code = "user.username_too_long"


class UppercaseNotAllowedError(UsernameRejectedError):
    """Username may not contain uppercase letters."""

    code = "user.username_uppercase_not_allowed"


class LowercaseNotAllowedError(UsernameRejectedError):
    """Username may not contain lowercase letters."""

    code = "user.username_lowercase_not_allowed"


class NumbersNotAllowedError(UsernameRejectedError):
    """Username may not contain numbers."""

    code = "user.username_numbers_not_allowed"


class UnderscoreNotAllowedError(UsernameRejectedError):
    """Username may not contain underscores."""

    code = "user.username_underscore_not_allowed"


USERNAME_ERRORS: tuple[type[UsernameRejectedError], ...] = (
    UsernameRequiredError,
    UsernameStartsWithNumberError,
    UsernameCharsetError,
    UsernameTooShortError,
    UsernameTooLongError,
    UppercaseNotAllowedError,
    LowercaseNotAllowedError,
    NumbersNotAllowedError,
    UnderscoreNotAllowedError,
)


def ensure_username_allowed(username: str, policy: UsernamePolicy) -> None:
    """Raises the `UsernameRejectedError` of the first rule broken, in Logto's order."""
    allowed = policy.allowed_chars
    checks: tuple[tuple[bool, type[UsernameRejectedError]], ...] = (
        (not username, UsernameRequiredError),
        (username[:1].isdigit(), UsernameStartsWithNumberError),
        (not USERNAME.match(username), UsernameCharsetError),
        (len(username) < policy.min_length, UsernameTooShortError),
        (len(username) > policy.max_length, UsernameTooLongError),
        (not allowed.uppercase and any(c.isupper() for c in username), UppercaseNotAllowedError),
        (not allowed.lowercase and any(c.islower() for c in username), LowercaseNotAllowedError),
        (not allowed.numbers and any(c.isdigit() for c in username), NumbersNotAllowedError),
        (not allowed.underscore and "_" in username, UnderscoreNotAllowedError),
    )
    for broken, error in checks:
        if broken:
            raise error()
