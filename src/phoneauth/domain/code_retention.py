"""Retention: finished codes and old message-log entries deleted, on demand or hourly.

Its own module because pruning is housekeeping over the stores (the `phoneauth prune` command
runs it without the code engine), not a rule of sending or checking a code.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from phoneauth.domain.message_log import MessageLogStore
from phoneauth.domain.oidc.records import OidcStore
from phoneauth.domain.tenants import TenantStore
from phoneauth.domain.verification_code_store import VerificationCodeStore

if TYPE_CHECKING:  # the engine's module imports this one
    from phoneauth.domain.verification_codes import VerificationCodes

log = logging.getLogger("phoneauth.codes")


@dataclass(frozen=True, slots=True)
class PruneResult:
    codes: int
    messages: int


async def prune(
    now: datetime,
    *,
    tenants: TenantStore,
    codes: VerificationCodeStore,
    messages: MessageLogStore,
) -> PruneResult:
    """Delete finished codes and log entries past each tenant's `messageLogRetentionDays`."""
    code_count = message_count = 0
    for tenant in await tenants.list():
        code_count += await codes.delete_finished(tenant.id, now)
        keep = timedelta(days=tenant.settings.message_log_retention_days)
        message_count += await messages.delete_before(tenant.id, now - keep)
    return PruneResult(code_count, message_count)


async def run_retention(
    codes: VerificationCodes,
    *,
    every: float = 3600.0,
    first_after: float = 60.0,
    oidc: OidcStore | None = None,
) -> None:
    """Prune every `every` seconds until cancelled (the app lifespan runs this); with `oidc`,
    the provider's expired requests, codes and refresh tokens too."""
    await asyncio.sleep(first_after)
    while True:
        try:
            result = await codes.prune()
            log.info("pruned %d codes and %d log entries", result.codes, result.messages)
            if oidc is not None:
                log.info("pruned %d expired OIDC records", await oidc.delete_expired(codes.clock()))
        except Exception:
            log.exception("pruning failed; trying again in %d s", every)
        await asyncio.sleep(every)
