from __future__ import annotations

import pytest

from phoneauth.connectors import (
    InvalidRequestParametersError,
    SmsMessage,
    UsageType,
    mask_phone,
    to_e164,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("+4915112345678", "+4915112345678"),
        ("4915112345678", "+4915112345678"),
        ("004915112345678", "+4915112345678"),
        ("+49 151 1234-5678", "+4915112345678"),
        ("+1 (415) 555.0100", "+14155550100"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(given: str, expected: str) -> None:
    assert to_e164(given) == expected


@pytest.mark.parametrize(
    "bad", ["", "+", "+0123456789", "12345", "+49abc1234567", "+1234567890123456"]
)
def test_malformed_phone_numbers_are_refused_with_a_code(bad: str) -> None:
    with pytest.raises(InvalidRequestParametersError) as info:
        SmsMessage(to=bad)
    assert info.value.code == "connector.invalid_request_parameters"
    assert info.value.details == {"field": "to"}


def test_usage_types_are_logtos_nine() -> None:
    assert [usage.value for usage in UsageType] == [
        "SignIn",
        "Register",
        "ForgotPassword",
        "OrganizationInvitation",
        "Generic",
        "UserPermissionValidation",
        "BindNewIdentifier",
        "MfaVerification",
        "BindMfa",
    ]


def test_message_accepts_usage_type_strings_and_exposes_digits() -> None:
    message = SmsMessage(to="+4915112345678", usage_type="SignIn", payload={"code": "1"})  # type: ignore[arg-type]
    assert message.usage_type is UsageType.SIGN_IN
    assert message.digits == "4915112345678"


def test_message_repr_hides_the_code_and_most_of_the_number() -> None:
    message = SmsMessage(to="+4915112345678", payload={"code": "864209"})
    assert "864209" not in repr(message)
    assert "12345678" not in repr(message)
    assert mask_phone("+4915112345678") == "+4915*****5678"
