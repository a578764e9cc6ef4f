"""Phone numbers in, E.164 out: every number the service stores or sends is parsed here first."""

from __future__ import annotations

import phonenumbers

from phoneauth.errors import PhoneauthError

# Longer input is not a phone number; refuse it before the parser spends time on it.
_MAX_INPUT = 64


class InvalidPhoneNumberError(PhoneauthError):
    """The phone number is not valid: give it in international format, e.g. +4915112345678."""

    code = "phone_number.invalid"
    status = 400


def _parsed(raw: str) -> phonenumbers.PhoneNumber:
    text = raw.strip()
    if not text or len(text) > _MAX_INPUT:
        raise InvalidPhoneNumberError()
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        # Logto's digits-only form carries the country code without the plus.
        text = "+" + text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumberError() from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumberError()
    return number


def parse_phone(raw: str) -> str:
    """`+4915112345678`, `4915112345678`, `0049 151 1234 5678` → `+4915112345678`.

    Raises:
        InvalidPhoneNumberError: not a valid number in any country's numbering plan.
    """
    return phonenumbers.format_number(_parsed(raw), phonenumbers.PhoneNumberFormat.E164)


def country_calling_code(e164: str) -> int:
    """49 for `+4915112345678`: the key of the per-country send budget."""
    code = _parsed(e164).country_code
    return int(code) if code is not None else 0
