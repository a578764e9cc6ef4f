"""Expired sign-in interactions deleted by a job of their own, once a minute.

The cleanup used to run inside `Interactions.start`: the end user whose start came first after
a minute waited for every expired row of the hour before (about 100 ms at 200 sign-ins per
second), and a tenant nobody signed in to kept its expired rows. A job in the background
spares that user and cleans every tenant alike.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from phoneauth.domain.interactions import Interactions
from phoneauth.domain.tenants import TenantStore
from phoneauth.errors import DatabaseTroubleError

log = logging.getLogger("phoneauth.interactions")

CLEANUP_EVERY_S = 60.0


async def delete_expired_interactions(
    interactions: Interactions, tenants: TenantStore, now: datetime | None = None
) -> int:
    """Every tenant's interactions expired at `now` (the interactions' clock if omitted)."""
    moment = interactions.clock() if now is None else now
    deleted = 0
    for tenant in await tenants.list():
        deleted += await interactions.store.delete_expired(tenant.id, moment)
    return deleted


async def run_interaction_cleanup(
    interactions: Interactions, tenants: TenantStore, *, every: float = CLEANUP_EVERY_S
) -> None:
    """Clean up every `every` seconds until cancelled (the app lifespan runs this); a failed
    round is tried again at the next. A database outage is not logged here: the database
    layer logs it once, and once more when it is back."""
    while True:
        await asyncio.sleep(every)
        try:
            deleted = await delete_expired_interactions(interactions, tenants)
        except DatabaseTroubleError:
            continue
        except Exception:
            log.exception("deleting expired interactions failed; trying again in %d s", every)
            continue
        if deleted:
            log.debug("deleted %d expired interactions", deleted)
