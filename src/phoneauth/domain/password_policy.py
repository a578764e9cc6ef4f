"""Logto's password policy (`passwordPolicy` of the sign-in experience): shape, defaults, and the
issues a password breaks, in Logto's order and with Logto's codes (logto-parity §6.4).

The known-breach check (`rejects.pwned`) asks a Have I Been Pwned range endpoint through
`PwnedLookup` (see `pwned_passwords`); everything else is pure.
"""

from __future__ import annotations

import re
import string
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from phoneauth.errors import PhoneauthError

SYMBOLS = frozenset(string.punctuation + " ")
"""Logto's special characters: the ASCII punctuation and the space."""

_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_RUN = 3
"""Repetitions and sequences count from three characters on."""

PwnedLookup = Callable[[str], Awaitable[bool]]
"""Whether a password appears in a known breach."""


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class LengthPolicy(_Policy):
    min: int = Field(default=8, ge=1, le=256)
    max: int = Field(default=256, ge=1, le=256)

    @model_validator(mode="after")
    def _ordered(self) -> LengthPolicy:
        if self.min > self.max:
            raise ValueError("length.min may not be greater than length.max")
        return self


class CharacterTypesPolicy(_Policy):
    min: int = Field(default=1, ge=1, le=4)


class RejectsPolicy(_Policy):
    pwned: bool = True
    repetition_and_sequence: bool = Field(default=True, alias="repetitionAndSequence")
    user_info: bool = Field(default=True, alias="userInfo")
    words: list[str] = Field(default_factory=list)


class PasswordPolicy(_Policy):
    """Logto's policy; a stored `{}` means every default."""

    length: LengthPolicy = Field(default_factory=LengthPolicy)
    character_types: CharacterTypesPolicy = Field(
        default_factory=CharacterTypesPolicy, alias="characterTypes"
    )
    rejects: RejectsPolicy = Field(default_factory=RejectsPolicy)


@dataclass(frozen=True, slots=True)
class PasswordIssue:
    """One broken rule: Logto's `password_rejected.*` code and its interpolation."""

    code: str
    interpolation: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"code": self.code}
        if self.interpolation is not None:
            shown["interpolation"] = self.interpolation
        return shown


@dataclass(frozen=True, slots=True)
class UserInfo:
    """What the user-info rule compares with: the account's identifiers and name."""

    values: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, *values: str | None) -> UserInfo:
        return cls(tuple(value for value in values if value))


class PasswordRejectedError(PhoneauthError):
    """Password rejected. Please check if your password meets the requirements."""

    code = "password.rejected"
    status = 422

    def __init__(self, issues: Iterable[PasswordIssue]) -> None:
        shown = [issue.as_json() for issue in issues]
        super().__init__(None, issues=shown)
        self.data = {"issues": shown}  # Logto's body: `data: {issues}`


def _types(password: str) -> int:
    kinds = (
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c in string.digits for c in password),
        any(c in SYMBOLS for c in password),
    )
    return sum(kinds)


def _repetitions(password: str) -> set[int]:
    flagged: set[int] = set()
    for match in re.finditer(r"(.)\1{2,}", password, re.DOTALL):
        flagged.update(range(match.start(), match.end()))
    return flagged


def _sequences(password: str) -> set[int]:
    """Positions inside runs of three or more consecutive keys, either way, any case."""
    lowered = password.lower()
    flagged: set[int] = set()
    for alphabet in _SEQUENCES:
        for line in (alphabet, alphabet[::-1]):
            start = 0
            while start < len(lowered):
                end = start
                while end + 1 < len(lowered):
                    here, after = lowered[end], lowered[end + 1]
                    spot = line.find(here)
                    if spot < 0 or spot + 1 >= len(line) or line[spot + 1] != after:
                        break
                    end += 1
                if end - start + 1 >= _RUN:
                    flagged.update(range(start, end + 1))
                start = end + 1
    return flagged


def _phrases(password: str, phrases: Iterable[str]) -> set[int]:
    lowered = password.lower()
    flagged: set[int] = set()
    for phrase in phrases:
        needle = phrase.lower()
        if len(needle) < _RUN:
            continue
        for match in re.finditer(re.escape(needle), lowered):
            flagged.update(range(match.start(), match.end()))
    return flagged


def _user_phrases(user: UserInfo) -> list[str]:
    """The identifiers and their parts: an email's local part, a phone's digits, name words."""
    found: list[str] = []
    for value in user.values:
        found.append(value)
        found.append(value.split("@", 1)[0])
        found.append("".join(c for c in value if c.isdigit()))
        found += value.split()
    return [item for item in found if item]


def _restricted(password: str, policy: RejectsPolicy, user: UserInfo | None) -> list[PasswordIssue]:
    """Logto reports restricted phrases only when they leave almost nothing else: more than
    `max(1, length - 3)` characters flagged."""
    by_code: list[tuple[str, set[int]]] = []
    if policy.repetition_and_sequence:
        by_code.append(("password_rejected.restricted.repetition", _repetitions(password)))
        by_code.append(("password_rejected.restricted.sequence", _sequences(password)))
    if policy.words:
        by_code.append(("password_rejected.restricted.words", _phrases(password, policy.words)))
    if policy.user_info and user is not None:
        phrases = _user_phrases(user)
        by_code.append(("password_rejected.restricted.user_info", _phrases(password, phrases)))
    flagged = set().union(*(positions for _, positions in by_code)) if by_code else set()
    if len(flagged) <= max(1, len(password) - 3):
        return []
    return [PasswordIssue(code) for code, positions in by_code if positions]


async def password_issues(
    password: str,
    policy: PasswordPolicy,
    *,
    user: UserInfo | None = None,
    pwned: PwnedLookup | None = None,
) -> list[PasswordIssue]:
    """Every rule `password` breaks, in Logto's order; empty when it is acceptable."""
    issues: list[PasswordIssue] = []
    if len(password) < policy.length.min:
        issues.append(PasswordIssue("password_rejected.too_short", {"min": policy.length.min}))
    elif len(password) > policy.length.max:
        issues.append(PasswordIssue("password_rejected.too_long", {"max": policy.length.max}))
    if any(not (c.isascii() and (c.isalnum() or c in SYMBOLS)) for c in password):
        issues.append(PasswordIssue("password_rejected.unsupported_characters"))
    elif _types(password) < policy.character_types.min:
        wanted = {"min": policy.character_types.min}
        issues.append(PasswordIssue("password_rejected.character_types", wanted))
    if policy.rejects.pwned and pwned is not None and await pwned(password):
        issues.append(PasswordIssue("password_rejected.pwned"))
    issues += _restricted(password, policy.rejects, user)
    return issues


async def ensure_password_allowed(
    password: str,
    policy: PasswordPolicy,
    *,
    user: UserInfo | None = None,
    pwned: PwnedLookup | None = None,
) -> None:
    """Raises:
    PasswordRejectedError: 422 `password.rejected`, the issues in `data.issues` (Logto's) and
        `details.issues`."""
    issues = await password_issues(password, policy, user=user, pwned=pwned)
    if issues:
        raise PasswordRejectedError(issues)
