"""What a verification code is kept as (the record, the keyed hash of the code), and the store
port the database implements.

Its own module because storage implements the port and the code engine, its resends, checks and
retention all use the record, none of them needing the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from phoneauth.connectors import UsageType
from phoneauth.crypto import keyed_hash


@dataclass(frozen=True, slots=True)
class StoredCode:
    id: str
    tenant_id: str
    phone: str
    usage_type: str
    scope: str
    code_hash: str
    try_count: int
    created_at: datetime
    expires_at: datetime
    consumed_at: datetime | None = None
    code_sealed: str | None = None
    """The code itself, encrypted, while it waits (`resendKeepsCode`); never logged."""
    send_count: int = 1
    last_sent_at: datetime | None = None


class VerificationCodeStore(Protocol):
    """Codes of one tenant per call; the writes are single conditional statements."""

    async def replace(self, code: StoredCode) -> None:
        """Insert `code` and delete the unconsumed codes with the same tenant, phone, usage type
        and scope, in one transaction."""
        ...

    async def find_live(
        self, tenant_id: str, phone: str, usage_type: str, scope: str
    ) -> StoredCode | None:
        """The newest unconsumed code."""
        ...

    async def get(self, tenant_id: str, code_id: str) -> StoredCode | None: ...

    async def claim_send(
        self, tenant_id: str, code_id: str, now: datetime, sent_before: datetime
    ) -> StoredCode | None:
        """The send slot of a waiting code: `last_sent_at = now, send_count += 1` if unconsumed
        and last sent at or before `sent_before` (or never); the row as updated, None if not."""
        ...

    async def rescope(self, tenant_id: str, code_id: str, scope: str, code_hash: str) -> None:
        """Move an unconsumed code to another scope (its hash is bound to the scope)."""
        ...

    async def release_send(
        self, tenant_id: str, code_id: str, claimed_at: datetime, previous: datetime | None
    ) -> None:
        """Undo `claim_send` (`last_sent_at = previous, send_count -= 1`) if no other send has
        claimed the slot since `claimed_at`: a send the provider refused starts no cooldown."""
        ...

    async def claim_attempt(self, tenant_id: str, code_id: str, max_attempts: int) -> bool:
        """`try_count += 1` if unconsumed and `try_count < max_attempts`; True if it was."""
        ...

    async def consume(self, tenant_id: str, code_id: str, now: datetime, max_attempts: int) -> bool:
        """Mark consumed if unconsumed, unexpired and `try_count < max_attempts` (a right code
        needs an attempt left but does not use one up); True if this call did it."""
        ...

    async def delete_finished(self, tenant_id: str, now: datetime) -> int:
        """Delete consumed codes and codes expired before `now`; how many."""
        ...


class CodeHasher:
    """The keyed hash a code is stored as, bound to its tenant, recipient, usage type and scope:
    a code sent for one of them is wrong for any other. The key stays inside."""

    __slots__ = ("_hash_key",)

    def __init__(self, hash_key: bytes) -> None:
        self._hash_key = hash_key

    def __call__(self, tenant_id: str, phone: str, usage: UsageType, scope: str, code: str) -> str:
        return keyed_hash(self._hash_key, f"{tenant_id}:{phone}:{usage.value}:{scope}:{code}")
