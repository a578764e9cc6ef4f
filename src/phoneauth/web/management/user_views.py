"""The shapes of Logto's Management API users: the user object (`transpileAdminUserProfileResponse`)
and the request bodies of `POST` and `PATCH /api/users`, with Logto's patterns."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from phoneauth.domain.users import User

USERNAME = r"^[A-Z_a-z][A-Za-z0-9_]*$"
"""Logto's `usernameRegEx` `^[A-Z_a-z]\\w*$`, with JavaScript's ASCII `\\w` spelled out."""
PHONE = r"^\+?\d+$"
"""Logto's digits-only `phoneRegEx`, and E.164 with its `+` (phoneauth stores E.164)."""
EMAIL = r"^\S+@\S+\.\S+$"
"""Logto's `emailRegEx`; `domain.emails` applies the syntax rules after it."""

Username = Annotated[str, StringConstraints(pattern=USERNAME, max_length=128)]
Phone = Annotated[str, StringConstraints(pattern=PHONE, max_length=64)]
Email = Annotated[str, StringConstraints(pattern=EMAIL, max_length=128)]
Name = Annotated[str, StringConstraints(max_length=128)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Empty = Annotated[str, StringConstraints(max_length=0)]
Url = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$", max_length=2048)
]
"""Logto's `avatar`: a URL (kept exactly as sent), `''` or null; the column is varchar(2048)."""


_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
"""NUL and lone surrogates: neither database stores them (PostgreSQL refuses NUL in text,
and neither driver encodes a lone surrogate), so they are refused as invalid input."""


def _refuse_unstorable(value: Any) -> Any:
    """Every string in a body, keys and nested values included, must be storable."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            raise ValueError("text must not hold NUL characters or lone surrogates")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable(key)
            _refuse_unstorable(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_unstorable(item)
    return value


class StorableBody(BaseModel):
    """A request body whose text can be stored as sent."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return _refuse_unstorable(data)


def _ms(moment: Any) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


class Address(BaseModel):
    model_config = ConfigDict(extra="ignore")

    formatted: str | None = None
    streetAddress: str | None = None
    locality: str | None = None
    region: str | None = None
    postalCode: str | None = None
    country: str | None = None


class Profile(BaseModel):
    """Logto's `userProfileGuard`: the OpenID standard claims a user may carry; other keys are
    dropped, as Logto's guard drops them."""

    model_config = ConfigDict(extra="ignore")

    familyName: str | None = None
    givenName: str | None = None
    middleName: str | None = None
    nickname: str | None = None
    preferredUsername: str | None = None
    profile: str | None = None
    website: str | None = None
    gender: str | None = None
    birthdate: str | None = None
    zoneinfo: str | None = None
    locale: str | None = None
    address: Address | None = None

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class UserCreate(StorableBody):
    """`POST /api/users`: every key optional; `{}` makes a user with no identifier."""

    username: Username | None = None
    primaryEmail: Email | None = None
    primaryPhone: Phone | None = None
    password: Password | None = None
    name: Name | None = None
    avatar: Url | Empty | None = None
    customData: dict[str, Any] = Field(default_factory=dict)
    profile: Profile = Field(default_factory=Profile)


class UserUpdate(StorableBody):
    """`PATCH /api/users/{userId}`: the keys sent are replaced; `''` or null clears one."""

    username: Username | Empty | None = None
    primaryEmail: Email | Empty | None = None
    primaryPhone: Phone | Empty | None = None
    name: Name | None = None
    avatar: Url | Empty | None = None
    customData: dict[str, Any] | None = None
    profile: Profile | None = None

    def changes(self) -> dict[str, Any]:
        """The domain fields named in the body, by their storage names."""
        names = {
            "username": "username",
            "primaryEmail": "primary_email",
            "primaryPhone": "phone",
            "name": "name",
            "avatar": "avatar",
            "customData": "custom_data",
            "profile": "profile",
        }
        found: dict[str, Any] = {}
        for key in self.model_fields_set:
            value = getattr(self, key)
            if key == "profile":
                value = value.stored() if value is not None else {}
            elif key == "customData":
                value = value if value is not None else {}
            found[names[key]] = value
        return found


class PasswordBody(StorableBody):
    password: Password


class SuspensionBody(BaseModel):
    isSuspended: bool


class HasPassword(BaseModel):
    hasPassword: bool


class UserRead(BaseModel):
    """Logto's user object (logto-parity §1.1), plus phoneauth's `mfaFactors`. Never a password
    hash. Phones read in E.164; times are epoch milliseconds."""

    id: str
    username: str | None
    primaryEmail: str | None
    primaryPhone: str | None
    name: str | None
    avatar: str | None
    customData: dict[str, Any]
    identities: dict[str, Any]
    profile: dict[str, Any]
    lastSignInAt: int | None
    createdAt: int
    updatedAt: int
    applicationId: str | None
    cimdClientId: str | None
    isSuspended: bool
    hasPassword: bool
    mfaFactors: list[str]

    @classmethod
    def of(cls, user: User) -> UserRead:
        created = _ms(user.created_at)
        assert created is not None  # noqa: S101 - every row has its creation time
        return cls(
            id=user.id,
            username=user.username,
            primaryEmail=user.primary_email,
            primaryPhone=user.phone,
            name=user.name,
            avatar=user.avatar,
            customData=user.custom_data,
            identities={},
            profile=user.profile,
            lastSignInAt=_ms(user.last_sign_in_at),
            createdAt=created,
            updatedAt=_ms(user.updated_at) or created,
            applicationId=None,
            cimdClientId=None,
            isSuspended=user.is_suspended,
            hasPassword=user.has_password,
            mfaFactors=list(user.mfa_factors),
        )
