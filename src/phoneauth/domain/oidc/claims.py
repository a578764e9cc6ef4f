"""The user's claims by scope, as Logto gives them (`packages/core/src/oidc/scope.ts`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from phoneauth.domain.users import User

SUPPORTED_SCOPES = ("openid", "profile", "phone", "email", "offline_access")
PROFILE_CLAIMS_FROM_PROFILE = (
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "profile",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
)
CLAIMS_SUPPORTED = (
    "sub",
    "name",
    "picture",
    "username",
    "preferred_username",
    *PROFILE_CLAIMS_FROM_PROFILE,
    "updated_at",
    "created_at",
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
)


def _epoch_ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def user_claims(user: User, scope: str) -> dict[str, Any]:
    """`sub`, then the claims each granted scope adds."""
    scopes = set(scope.split())
    claims: dict[str, Any] = {"sub": user.id}
    if "profile" in scopes:
        profile = user.profile or {}
        claims |= {
            "name": user.name,
            "picture": user.avatar,
            "username": user.username,
            "preferred_username": profile.get("preferredUsername") or user.username,
            "updated_at": _epoch_ms(user.updated_at or user.created_at),
            "created_at": _epoch_ms(user.created_at),
        }
        claims |= {k: profile[k] for k in PROFILE_CLAIMS_FROM_PROFILE if profile.get(k)}
    if "email" in scopes:
        claims |= {"email": user.primary_email, "email_verified": bool(user.primary_email)}
    if "phone" in scopes:
        # Logto's primaryPhone: digits without the plus.
        phone = user.phone.removeprefix("+") if user.phone else None
        claims |= {"phone_number": phone, "phone_number_verified": bool(phone)}
    return claims
