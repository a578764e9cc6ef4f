"""Logto's username policy (logto-parity §2.2): the first violation wins."""

from __future__ import annotations

import pytest

from phoneauth.domain.sign_in_experience_fields import UsernamePolicy
from phoneauth.domain.usernames import UsernameRejectedError, ensure_username_allowed

STRICT = UsernamePolicy.model_validate(
    {
        "minLength": 3,
        "maxLength": 8,
        "allowedChars": {"uppercase": False, "numbers": False, "underscore": False},
    }
)


@pytest.mark.parametrize(
    ("username", "code"),
    [
        ("", "user.username_required"),
        ("1abc", "user.username_starts_with_number"),
        ("ab-c", "user.username_invalid_charset_hard"),
        ("ab", "user.username_too_short"),
        ("abcdefghi", "user.username_too_long"),
        ("Abc", "user.username_uppercase_not_allowed"),
        ("abc1", "user.username_numbers_not_allowed"),
        ("ab_c", "user.username_underscore_not_allowed"),
    ],
)
def test_each_violation_has_logtos_code(username: str, code: str) -> None:
    with pytest.raises(UsernameRejectedError) as info:
        ensure_username_allowed(username, STRICT)
    assert (info.value.code, info.value.status) == (code, 422)


def test_the_default_policy_takes_any_logto_username() -> None:
    ensure_username_allowed("Alice_1", UsernamePolicy())


def test_lowercase_can_be_forbidden() -> None:
    policy = UsernamePolicy.model_validate({"allowedChars": {"lowercase": False}})
    with pytest.raises(UsernameRejectedError) as info:
        ensure_username_allowed("ABc", policy)
    assert info.value.code == "user.username_lowercase_not_allowed"
