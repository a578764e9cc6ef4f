"""Logto's password policy (logto-parity §6.4): issue order, codes and the restricted-phrase
threshold."""

from __future__ import annotations

import pytest

from phoneauth.domain.password_policy import (
    PasswordPolicy,
    PasswordRejectedError,
    UserInfo,
    ensure_password_allowed,
    password_issues,
)

NO_INFO = PasswordPolicy.model_validate({"rejects": {"userInfo": False}})


async def codes(password: str, policy: PasswordPolicy = NO_INFO, **extra: object) -> list[str]:
    return [issue.code for issue in await password_issues(password, policy, **extra)]  # type: ignore[arg-type]


async def test_a_good_password_has_no_issue() -> None:
    assert await codes("Str0ng-Passphrase!") == []


async def test_length_comes_first_then_characters() -> None:
    policy = PasswordPolicy.model_validate(
        {"length": {"min": 10, "max": 12}, "characterTypes": {"min": 2}}
    )
    assert await codes("qmzkbw", policy) == [
        "password_rejected.too_short",
        "password_rejected.character_types",
    ]
    assert (await codes("x" * 13 + "é", policy))[:2] == [
        "password_rejected.too_long",
        "password_rejected.unsupported_characters",
    ]


async def test_restricted_phrases_count_only_when_they_leave_almost_nothing() -> None:
    assert await codes("aaaaaaaa") == ["password_rejected.restricted.repetition"]
    assert await codes("aaa-Kx9!Qz") == []  # a repetition among enough else
    assert await codes("12345678") == ["password_rejected.restricted.sequence"]
    assert await codes("qwertyuiop") == ["password_rejected.restricted.sequence"]
    assert await codes("zyxwvuts") == ["password_rejected.restricted.sequence"]


async def test_user_info_and_words() -> None:
    policy = PasswordPolicy.model_validate({"rejects": {"words": ["acme"]}})
    alice = UserInfo.of("alice_1", "+4915112345678")
    assert await codes("alice_1alice_1", policy, user=alice) == [
        "password_rejected.restricted.user_info"
    ]
    assert await codes("4915112345678", policy, user=alice) == [
        "password_rejected.restricted.sequence",
        "password_rejected.restricted.user_info",
    ]
    assert await codes("AcmeAcme", policy, user=alice) == ["password_rejected.restricted.words"]


async def test_the_breach_check_is_asked_only_while_it_is_on() -> None:
    asked: list[str] = []

    async def breached(password: str) -> bool:
        asked.append(password)
        return True

    assert await codes("Str0ng-Passphrase!", pwned=breached) == ["password_rejected.pwned"]
    off = PasswordPolicy.model_validate({"rejects": {"userInfo": False, "pwned": False}})
    assert await codes("Other-Passphrase1", off, pwned=breached) == []
    assert asked == ["Str0ng-Passphrase!"]


async def test_a_rejection_carries_the_issues() -> None:
    with pytest.raises(PasswordRejectedError) as info:
        await ensure_password_allowed("short", NO_INFO)
    assert info.value.code == "password.rejected"
    assert info.value.status == 422
    assert info.value.details["issues"] == [
        {"code": "password_rejected.too_short", "interpolation": {"min": 8}}
    ]


def test_policy_bounds_are_logtos() -> None:
    for bad in ({"length": {"min": 9, "max": 8}}, {"characterTypes": {"min": 0}}):
        with pytest.raises(ValueError, match="validation error"):
            PasswordPolicy.model_validate(bad)
