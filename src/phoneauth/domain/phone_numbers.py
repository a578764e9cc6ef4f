"""Phone numbers in, E.164 out: every number the service stores or sends is parsed here first."""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber

from phoneauth.errors import PhoneauthError

# Longer input is not a phone number; refuse it before the parser spends time on it.
_MAX_INPUT = 64
_CALLING_CODES = {str(code): code for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE}
_PLAIN_E164 = re.compile(r"\+[1-9][0-9]{6,17}")
LOGTO_PHONE = re.compile(r"\+?[0-9]+")
"""What Logto's guard takes as a phone (`^\\d+$`; phoneauth also takes the `+`): the code engine
judges such input as a number only after the connector lookup, as Logto never judges it at all."""


class InvalidPhoneNumberError(PhoneauthError):
    """The phone number is not valid: give it in international format, e.g. +4915112345678."""

    code = "phone_number.invalid"
    status = 400


def _plain_e164(text: str) -> str | None:
    """`text` itself when it is a valid number already in E.164 that the library's parser
    would return unchanged; None when the parser must decide.

    Nearly every API call sends E.164, and in the server `phonenumbers.parse` took about an
    eighth of a send-code request (`make bench`), normalising text that needs none. Its rules
    are kept: the calling code is the one it would extract (codes are prefix-free), and any
    number it could treat differently goes to it: a national part starting with 0 (leading
    zeros) or with the region's national prefix (which it may strip). Validity is the
    library's: a known type (`plan_type`), which is what `is_valid_number` tests. A test
    compares this with the full parse on every region's example numbers and many random ones."""
    if not _PLAIN_E164.fullmatch(text):
        return None
    digits = text[1:]
    for length in (1, 2, 3):
        code = _CALLING_CODES.get(digits[:length])
        if code is not None:
            break
    else:
        return None
    national = digits[length:]
    if len(national) < 2 or national[0] == "0":
        return None
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing
    if prefix and re.match(prefix, national):
        return None
    return text if plan_type(text) != phonenumbers.PhoneNumberType.UNKNOWN else None


@functools.lru_cache(maxsize=256)
def plan_type(e164: str) -> int:
    """The numbering plan's type of a number in E.164 (`phonenumbers.PhoneNumberType`),
    `UNKNOWN` for no valid number.

    A send asks twice: `parse_phone` (valid means a known type: what `is_valid_number` tests)
    and the pumping defence (`sms_protection`), and each ask tries the plan's patterns in
    turn, a tenth of the defence's CPU. Cached by the number, so the second is a lookup; the
    two asks are moments apart, so a small cache does (memory has its own target)."""
    try:
        return int(phonenumbers.number_type(as_number(e164)))
    except InvalidPhoneNumberError:
        return int(phonenumbers.PhoneNumberType.UNKNOWN)


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
    plain = _plain_e164(raw)
    if plain is not None:
        return plain
    return phonenumbers.format_number(_parsed(raw), phonenumbers.PhoneNumberFormat.E164)


def as_number(e164: str) -> PhoneNumber:
    """The library's form of a number `parse_phone` gave, built from its digits: the parser
    would give the same (calling codes are prefix-free) at several times the cost. A national
    part with a leading zero (Italy's) keeps that zero only through the parser.

    Raises:
        InvalidPhoneNumberError: not a valid number.
    """
    digits = e164.removeprefix("+")
    for length in (1, 2, 3):
        code = _CALLING_CODES.get(digits[:length])
        if code is not None:
            national = digits[length:]
            if national.isdigit() and national[0] != "0":
                return PhoneNumber(country_code=code, national_number=int(national))
            break
    return _parsed(e164)


def region_of(e164: str) -> str | None:
    """`DE` for `+4915112345678`: the ISO region routes, logs and metrics name, None for a
    non-geographic number. A calling code shared by several regions (`+1`, `+7`) is told
    apart by the numbering plan; the others need no parse."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_calling_code(e164), ())
    region: str | None
    if len(regions) == 1:
        region = regions[0]
    else:
        try:
            region = phonenumbers.region_code_for_number(_parsed(e164))
        except InvalidPhoneNumberError:
            return None
    return region if region and region != phonenumbers.UNKNOWN_REGION and region != "001" else None


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


def is_region(code: str) -> bool:
    """Whether `code` is an ISO 3166 region the numbering plan knows (`DE`, `HK`), upper case."""
    return code in phonenumbers.SUPPORTED_REGIONS
