from __future__ import annotations

import pytest

from phoneauth.domain.phone_numbers import (
    InvalidPhoneNumberError,
    country_calling_code,
    parse_phone,
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
