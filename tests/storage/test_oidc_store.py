"""The provider's store on both databases: single use under concurrency, revocation, pruning."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.loop_turns_support import turns_during

from phoneauth.domain.applications import Application, ApplicationType
from phoneauth.domain.oidc.records import (
    AuthorizationRequest,
    IssuedCode,
    IssuedRefreshToken,
    token_hash,
)
from phoneauth.ids import new_id
from phoneauth.storage.repositories import oidc as oidc_store
from phoneauth.wiring import Services

NOW = datetime.now(UTC).replace(microsecond=0)


async def grant_parts(services: Services) -> tuple[str, str, str]:
    """An application, a user and a login session: what every code and token hangs on."""
    app = Application("default", new_id(), "App", ApplicationType.SPA, NOW)
    await services.applications.create(app)
    user = await services.users.create("default", phone="+4915112340000")
    session = await services.sessions.sign_in(user)
    return app.id, user.id, session.session_id


def code(app_id: str, user_id: str, session_id: str, **changes: object) -> IssuedCode:
    fields: dict[str, object] = {
        "code_hash": token_hash(uuid.uuid4().hex),
        "tenant_id": "default",
        "application_id": app_id,
        "user_id": user_id,
        "session_id": session_id,
        "family_id": uuid.uuid4().hex,
        "auth_time": NOW,
        "created_at": NOW,
        "expires_at": NOW + timedelta(seconds=60),
        "details": {"redirect_uri": "http://app.test/cb"},
    } | changes
    return IssuedCode(**fields)  # type: ignore[arg-type]


def refresh(issued: IssuedCode, **changes: object) -> IssuedRefreshToken:
    fields: dict[str, object] = {
        "token_hash": token_hash(uuid.uuid4().hex),
        "tenant_id": "default",
        "application_id": issued.application_id,
        "user_id": issued.user_id,
        "session_id": issued.session_id,
        "family_id": issued.family_id,
        "auth_time": NOW,
        "created_at": NOW,
        "expires_at": NOW + timedelta(days=14),
    } | changes
    return IssuedRefreshToken(**fields)  # type: ignore[arg-type]


async def test_a_code_and_a_refresh_token_are_used_once_under_concurrency(
    services: Services,
) -> None:
    store = services.oidc_store
    issued = code(*await grant_parts(services))
    token = refresh(issued)
    await store.add_code(issued)
    await store.add_refresh_token(token)
    code_uses = await asyncio.gather(
        *(store.use_code("default", issued.code_hash, NOW) for _ in range(20))
    )
    token_uses = await asyncio.gather(
        *(store.use_refresh_token("default", token.token_hash, NOW) for _ in range(20))
    )
    assert code_uses.count(True) == 1
    assert token_uses.count(True) == 1
    assert not await store.use_code("other", issued.code_hash, NOW)  # tenants stay apart


async def test_revoking_a_family_or_a_session_reaches_every_token(services: Services) -> None:
    store = services.oidc_store
    parts = await grant_parts(services)
    first, second = code(*parts), code(*parts)
    first_token, second_token = refresh(first), refresh(second)
    for issued in (first, second):
        await store.add_code(issued)
    for token in (first_token, second_token):
        await store.add_refresh_token(token)
    await store.revoke_family("default", first.family_id, NOW)
    assert await store.family_revoked("default", first.family_id)
    assert not await store.family_revoked("default", second.family_id)
    revoked = await store.find_refresh_token("default", first_token.token_hash)
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert not await store.use_refresh_token("default", first_token.token_hash, NOW)
    await store.revoke_session("default", parts[2], NOW)
    assert await store.family_revoked("default", second.family_id)
    assert not await store.use_refresh_token("default", second_token.token_hash, NOW)


async def test_pruning_keeps_what_can_still_be_used_or_replayed(services: Services) -> None:
    store = services.oidc_store
    parts = await grant_parts(services)
    long_ago = NOW - timedelta(days=3)
    stale_code = code(*parts, created_at=long_ago, expires_at=long_ago + timedelta(seconds=60))
    kept_code = code(*parts, created_at=long_ago, expires_at=long_ago + timedelta(seconds=60))
    live_token = refresh(kept_code)  # its grant lives on: its code keeps the revocation flag
    expired_token = refresh(stale_code, expires_at=NOW - timedelta(seconds=1))
    for issued in (stale_code, kept_code):
        await store.add_code(issued)
    for token in (live_token, expired_token):
        await store.add_refresh_token(token)
    for uid, expires in (("gone", NOW - timedelta(seconds=1)), ("waiting", NOW + timedelta(1))):
        await store.add_request(
            AuthorizationRequest(uid, "default", parts[0], {"query": []}, long_ago, expires)
        )
    assert await store.delete_expired(NOW) == 3  # the old request, the old token, then its code
    assert await store.find_request("default", "gone") is None
    assert await store.find_request("default", "waiting") is not None
    assert await store.find_code("default", stale_code.code_hash) is None
    assert await store.find_code("default", kept_code.code_hash) is not None
    assert await store.find_refresh_token("default", expired_token.token_hash) is None
    assert await store.find_refresh_token("default", live_token.token_hash) is not None


async def test_a_prune_deletes_in_batches_and_serves_other_work_between_them(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2 over 5 old requests, 3 expired tokens and their grants' 3 stale codes."""
    monkeypatch.setattr(oidc_store, "PRUNE_BATCH", 2)
    store = services.oidc_store
    parts = await grant_parts(services)
    long_ago = NOW - timedelta(days=3)
    for n in range(6):
        expires = NOW - timedelta(seconds=n + 1) if n < 5 else NOW + timedelta(1)
        await store.add_request(
            AuthorizationRequest(f"r{n}", "default", parts[0], {"query": []}, long_ago, expires)
        )
    stale = [code(*parts, expires_at=long_ago + timedelta(seconds=n)) for n in range(3)]
    for issued in stale:
        await store.add_code(issued)
        await store.add_refresh_token(refresh(issued, expires_at=NOW - timedelta(seconds=1)))
    deleted, turns = await turns_during(store.delete_expired(NOW))
    assert deleted == 5 + 3 + 3
    assert turns >= 4  # requests are served between the batches, not after all of them
    assert [await store.find_request("default", f"r{n}") for n in range(5)] == [None] * 5
    assert await store.find_request("default", "r5") is not None
    assert [await store.find_code("default", c.code_hash) for c in stale] == [None] * 3
