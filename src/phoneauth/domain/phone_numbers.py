"""Phone numbers in, E.164 out: every number the service stores or sends is parsed here first."""

from __future__ import annotations

import functools

import phonenumbers

from phoneauth.errors import PhoneauthError

# Longer input is not a phone number; refuse it before the parser spends time on it.
_MAX_INPUT = 64
_CALLING_CODES = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}


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


@functools.lru_cache(maxsize=4096)
def parse_phone(raw: str) -> str:
    """`+4915112345678`, `4915112345678`, `0049 151 1234 5678` → `+4915112345678`.

    Cached: a number is parsed again on every send and verify of its flow, and parsing costs
    more than the rest of a verify together (`make bench`); failures are not cached.

    Raises:
        InvalidPhoneNumberError: not a valid number in any country's numbering plan.
    """
    return phonenumbers.format_number(_parsed(raw), phonenumbers.PhoneNumberFormat.E164)


def country_calling_code(e164: str) -> int:
    """49 for `+4915112345678`: the key of the per-country send budget.

    Calling codes are prefix-free, so the first one to three digits name it without parsing
    the number again.
    """
    digits = e164.removeprefix("+")
    for length in (1, 2, 3):
        code = _CALLING_CODES.get(digits[:length])
        if code is not None:
            return code
    found = _parsed(e164).country_code
    return int(found) if found is not None else 0
