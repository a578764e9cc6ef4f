"""Resending a waiting code: the cooldown between sends and the sealed code a resend reuses.

A resend within the waiting code's validity sends the same code again, so a user whose first
SMS was late can type either message. The code waits encrypted (never only hashed) for that,
and a send first claims the recipient's send slot in one conditional write, so two racing
resends cannot both pass the cooldown nor leave two different codes.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Protocol

from phoneauth.domain.rate_limits import RateLimitedError
from phoneauth.errors import PhoneauthError


class ResendTooSoonError(RateLimitedError):
    """A code was sent to this recipient moments ago; try again after `Retry-After` seconds."""

    code = "verification_code.resend_too_soon"


class CodeSealer(Protocol):
    """What keeps the waiting code readable for a resend (the service's `ConfigCipher`)."""

    def encrypt(self, document: dict[str, Any]) -> str: ...

    def decrypt(self, token: str) -> dict[str, Any]: ...


def seal(sealer: CodeSealer | None, code: str) -> str | None:
    return None if sealer is None else sealer.encrypt({"code": code})


def unseal(sealer: CodeSealer | None, sealed: str | None) -> str | None:
    """The sealed code, or None when it cannot be read (no cipher, another master secret): the
    resend then issues a new code, as without the setting."""
    if sealer is None or sealed is None:
        return None
    try:
        code = sealer.decrypt(sealed).get("code")
    except PhoneauthError:
        return None
    return code if isinstance(code, str) else None


def seconds_left(last_sent_at: datetime | None, cooldown: int, now: datetime) -> int:
    """Whole seconds until the next send is allowed (0: now)."""
    if cooldown <= 0 or last_sent_at is None:
        return 0
    left = (last_sent_at + timedelta(seconds=cooldown) - now).total_seconds()
    return max(0, math.ceil(left))
