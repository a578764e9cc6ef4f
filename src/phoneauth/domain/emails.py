"""Email addresses as identifiers: Logto's loose pattern first, then the syntax rules of
`email-validator`; stored with the domain lower-cased, compared without regard to case."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from phoneauth.errors import PhoneauthError

LOGTO_EMAIL = re.compile(r"^\S+@\S+\.\S+$")
"""Logto's `emailRegEx` (`packages/toolkit/core-kit/src/regex.ts`)."""
MAX_LENGTH = 128
"""Logto's `primary_email` column is varchar(128)."""


class InvalidEmailError(PhoneauthError):
    """The email address is invalid; `details.reason` says why."""

    code = "guard.invalid_input"
    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(f"The email address is invalid: {reason}", reason=reason)


def normalise_email(raw: str) -> str:
    """The address as stored: the local part as given, the domain lower-cased (and IDNA in
    Unicode form). No DNS lookup: whether mail arrives is the code's business, not the syntax's."""
    if len(raw) > MAX_LENGTH or not LOGTO_EMAIL.fullmatch(raw):
        raise InvalidEmailError("it must look like name@example.com, at most 128 characters.")
    try:
        checked = validate_email(raw, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as error:
        raise InvalidEmailError(str(error)) from None
    if len(checked.normalized) > MAX_LENGTH:
        raise InvalidEmailError("it must be at most 128 characters.")
    return checked.normalized


def email_key(email: str) -> str:
    """What uniqueness and lookups compare: Logto matches addresses case-insensitively."""
    return email.lower()
