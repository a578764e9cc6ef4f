from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneMetadata, PhoneNumberType

from phoneauth.domain.phone_numbers import (
    InvalidPhoneNumberError,
    _plain_e164,
    as_number,
    country_calling_code,
    parse_phone,
    region_of,
)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+4915112345678", "+4915112345678"),
        ("4915112345678", "+4915112345678"),  # Logto's digits-only form
        ("004915112345678", "+4915112345678"),
        (" +49 151 1234-5678 ", "+4915112345678"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("8613012345678", "+8613012345678"),
    ],
)
def test_numbers_become_e164(raw: str, e164: str) -> None:
    assert parse_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "+", "abc", "+49123", "015112345678", "+999123456789", "+15555550100", "1" * 65],
)
def test_invalid_numbers_have_a_stable_code_and_a_message(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumberError) as info:
        parse_phone(raw)
    assert info.value.code == "phone_number.invalid"
    assert info.value.status == 400
    assert "international format" in info.value.message


@pytest.mark.parametrize(
    ("e164", "code"), [("+4915112345678", 49), ("+14155550100", 1), ("+8613012345678", 86)]
)
def test_the_country_calling_code(e164: str, code: int) -> None:
    assert country_calling_code(e164) == code


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+4915112345678", "DE"),
        ("+14155550100", "US"),  # +1 is shared: the numbering plan tells US from CA
        ("+16135550100", "CA"),
        ("+79031234567", "RU"),
        ("+77011234567", "KZ"),
        ("+85291234567", "HK"),
        ("+80012345678", None),  # non-geographic (international freephone)
    ],
)
def test_the_region_of_a_number(e164: str, region: str | None) -> None:
    assert region_of(e164) == region


def _by_the_library(raw: str) -> str:
    """What `phonenumbers` alone makes of `raw`: parse, validate, format."""
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return "invalid"
    if not phonenumbers.is_valid_number(number):
        return "invalid"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _ours(raw: str) -> str:
    try:
        return parse_phone.__wrapped__(raw)  # uncached: every call decides afresh
    except InvalidPhoneNumberError:
        return "invalid"


def _e164_samples() -> list[str]:
    """Every region's example numbers of every type in E.164, each changed a few ways (a digit
    replaced, added or dropped, a 0 or the region's national prefix after the calling code),
    and random `+digits`."""
    examples: set[str] = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in PhoneNumberType.values():
            found = phonenumbers.example_number_for_type(region, kind)
            if found is not None:
                examples.add(phonenumbers.format_number(found, phonenumbers.PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        found = phonenumbers.example_number_for_non_geo_entity(code)
        if found is not None:
            examples.add(phonenumbers.format_number(found, phonenumbers.PhoneNumberFormat.E164))
    randomness = random.Random(20261125)
    samples = set(examples)
    for example in sorted(examples):
        digits = example[1:]
        code = str(country_calling_code(example))
        national = digits[len(code) :]
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(
            int(code), phonenumbers.region_code_for_country_code(int(code))
        )
        prefix = metadata.national_prefix if metadata is not None else None
        samples.add(f"+{code}0{national}")
        if prefix:
            samples.add(f"+{code}{prefix}{national}")
        for _ in range(6):
            changed = list(digits)
            at = randomness.randrange(1, len(changed))
            what = randomness.random()
            if what < 0.4:
                changed[at] = str(randomness.randrange(10))
            elif what < 0.7:
                changed.insert(at, str(randomness.randrange(10)))
            else:
                del changed[at]
            samples.add("+" + "".join(changed))
    for _ in range(20_000):
        length = randomness.randrange(6, 18)
        samples.add(
            "+" + str(randomness.randrange(1, 10) * 10**length + randomness.randrange(10**length))
        )
    return sorted(samples)


def test_e164_input_gives_exactly_what_the_library_gives() -> None:
    """`parse_phone` answers E.164 input without the library's full parse when it can; the
    answers must be the library's, number for number (valid, invalid, rewritten)."""
    samples = _e164_samples()
    assert len(samples) > 25_000
    library = {raw: _by_the_library(raw) for raw in samples}  # once each: the costly side
    differences = [raw for raw in samples if _ours(raw) != library[raw]]
    assert differences == []
    valid = [raw for raw in samples if library[raw] != "invalid"]
    rewritten = [raw for raw in valid if library[raw] != raw]
    shortcut = [raw for raw in samples if _plain_e164(raw) is not None]
    assert len(valid) > 3_000
    assert rewritten  # the national-prefix and leading-zero variants take the full parse
    assert len(shortcut) > 0.75 * len(valid)


def test_a_parsed_number_is_rebuilt_as_the_parser_builds_it() -> None:
    """`as_number` skips the parser for numbers `parse_phone` gave; the number type and region
    read from it must be the parser's, for every valid sample (Italy's leading zeros too)."""
    valid = {parse_phone(raw) for raw in _e164_samples() if _by_the_library(raw) != "invalid"}
    assert any(number.startswith("+390") for number in valid)
    for e164 in sorted(valid):
        parsed = phonenumbers.parse(e164)
        rebuilt = as_number(e164)
        assert phonenumbers.number_type(rebuilt) == phonenumbers.number_type(parsed), e164
        assert phonenumbers.format_number(rebuilt, phonenumbers.PhoneNumberFormat.E164) == e164
