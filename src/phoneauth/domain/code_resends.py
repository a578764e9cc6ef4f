"""Resending a waiting code: the cooldown between sends and the sealed code a resend reuses.

A resend within the waiting code's validity sends the same code again, so a user whose first
SMS was late can type either message. The code waits encrypted (never only hashed) for that,
and a send first claims the recipient's send slot in one conditional write, so two racing
resends cannot both pass the cooldown nor leave two different codes. `WaitingCodes` does that
for the code engine: find the waiting code, claim its slot, issue a new code where it is not
sent again, store what was sent or give the slot back.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from phoneauth.connectors import UsageType
from phoneauth.domain.rate_limits import RateLimitedError, RateLimits
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.verification_code_store import CodeHasher, StoredCode, VerificationCodeStore
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

CODE_LENGTH = 6


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


@dataclass(frozen=True, slots=True)
class SendClaim:
    """What a send's claim on the waiting code gave: when it claimed the slot (None: no code
    was waiting), and the code to send again with its row (None: a new code)."""

    claimed_at: datetime | None
    resend: tuple[str, StoredCode] | None
    scope: str = ""
    """The scope the waiting code had when claimed."""


class WaitingCodes:
    """The code waiting for a recipient, usage type and scope, as a send finds it, claims its
    send slot (or issues a new code), stores what it sent or gives the slot back."""

    def __init__(
        self,
        *,
        store: VerificationCodeStore,
        rate_limits: RateLimits,
        hasher: CodeHasher,
        clock: Callable[[], datetime],
        sealer: CodeSealer | None = None,
    ) -> None:
        self.store = store
        self.rate_limits = rate_limits
        self.clock = clock
        self._hash = hasher
        self._sealer = sealer

    def new_code(
        self,
        tenant: Tenant,
        recipient: str,
        usage: UsageType,
        scope: str,
        fixed: str | None = None,
    ) -> tuple[str, StoredCode]:
        """A fresh code (a test number's fixed one) and the row that keeps only its hash, for a
        phone (E.164) or an address (its lower-cased key) alike."""
        code = fixed or f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        now = self.clock()
        policy = tenant.settings.verification_code_policy
        lifetime = timedelta(seconds=policy.expiration_duration)
        stored = StoredCode(
            id=new_id(),
            tenant_id=tenant.id,
            phone=recipient,
            usage_type=usage.value,
            scope=scope,
            code_hash=self._hash(tenant.id, recipient, usage, scope, code),
            try_count=0,
            created_at=now,
            expires_at=now + lifetime,
            code_sealed=seal(self._sealer, code) if policy.resend_keeps_code else None,
            last_sent_at=now,
        )
        return code, stored

    async def find(
        self, tenant: Tenant, recipient: str, usage: UsageType, scope: str
    ) -> StoredCode | None:
        """The waiting code a send would replace or resend; `ResendTooSoonError` while the
        cooldown since its last send runs (for a number with or without account alike: both
        have a stored code)."""
        waiting = await self.store.find_live(tenant.id, recipient, usage.value, scope)
        if waiting is not None:
            cooldown = tenant.settings.verification_code_policy.resend_cooldown_seconds
            left = seconds_left(waiting.last_sent_at, cooldown, self.clock())
            if left > 0:
                # A locked number is told so first (the longer wait); a refusal costs no budget.
                await self.rate_limits.ensure_not_locked(tenant, recipient)
                raise ResendTooSoonError(left)
        return waiting

    async def claim(
        self, tenant: Tenant, waiting: StoredCode | None, fixed: str | None, scope: str
    ) -> SendClaim:
        """Claim the waiting code's send slot (one conditional write: of racing sends, one
        wins, the others get `ResendTooSoonError`); with the code to send again and its row
        when the tenant keeps codes and this one is still good (else a new code replaces it).
        """
        if waiting is None:
            return SendClaim(None, None)
        policy = tenant.settings.verification_code_policy
        now = self.clock()
        sent_before = now - timedelta(seconds=policy.resend_cooldown_seconds)
        claimed = await self.store.claim_send(tenant.id, waiting.id, now, sent_before)
        if claimed is None:
            # Another send won the slot (or replaced the code, giving it a new id; or it was
            # consumed): the code waiting now says whether the cooldown runs.
            current = await self.store.find_live(
                tenant.id, waiting.phone, waiting.usage_type, waiting.scope
            )
            if current is not None:
                left = seconds_left(current.last_sent_at, policy.resend_cooldown_seconds, now)
                if left > 0:
                    raise ResendTooSoonError(left)
            return SendClaim(None, None)  # a new code
        good = (
            policy.resend_keeps_code
            and fixed is None
            and now <= claimed.expires_at
            and claimed.try_count < policy.max_retry_attempts
        )
        code = unseal(self._sealer, claimed.code_sealed) if good else None
        if code is None:
            return SendClaim(now, None)
        if scope != claimed.scope:  # the caller's new record takes the code over
            usage = UsageType(claimed.usage_type)
            code_hash = self._hash(tenant.id, claimed.phone, usage, scope, code)
            claimed = replace(claimed, scope=scope, code_hash=code_hash)
        return SendClaim(now, (code, claimed), waiting.scope)

    def saver(self, claim: SendClaim) -> Callable[[StoredCode], Awaitable[None]]:
        """How a send stores what it sent: a new code replaces the waiting one (one upsert);
        the same code sent again needs nothing (its claim recorded the send), unless it moves
        to the caller's new scope (an Experience resend's new verification record)."""
        resent = claim.resend

        async def save(stored: StoredCode) -> None:
            if resent is None:
                await self.store.replace(stored)
            elif stored.scope != claim.scope:
                await self.store.rescope(
                    stored.tenant_id, stored.id, stored.scope, stored.code_hash
                )

        return save

    async def release(self, tenant: Tenant, waiting: StoredCode | None, claim: SendClaim) -> None:
        """After the provider refused a send: its claim on the waiting code starts no cooldown
        (a new code was never stored; the waiting one stands as it was)."""
        if waiting is not None and claim.claimed_at is not None:
            await self.store.release_send(
                tenant.id, waiting.id, claim.claimed_at, waiting.last_sent_at
            )
