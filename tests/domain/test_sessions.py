from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from jwt.algorithms import ECAlgorithm

from phoneauth.domain.sessions import NotSignedInError
from phoneauth.domain.tenants import TenantKind
from phoneauth.wiring import Services


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_sign_in_gives_a_cookie_and_an_es256_token_verifiable_with_the_jwks(
    services: Services, api: httpx.AsyncClient
) -> None:
    clock = Clock()
    services.sessions.clock = clock
    user = await services.users.create("default", phone="+4915112345678")
    issued = await services.sessions.sign_in(user)

    by_cookie = await services.sessions.authenticate("default", cookie=issued.cookie_token)
    by_token = await services.sessions.authenticate("default", bearer=issued.access_token)
    assert by_cookie.user_id == by_token.user_id == user.id
    assert by_token.session_id == issued.session_id

    unknown = await api.get("/t/nowhere/oidc/jwks")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "tenant.not_found"
    jwks = (await api.get("/oidc/jwks")).json()
    assert (await api.get("/t/default/oidc/jwks")).json() == jwks
    header = jwt.get_unverified_header(issued.access_token)
    assert header["alg"] == "ES256"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert "d" not in key  # never the private part
    claims = jwt.decode(
        issued.access_token,
        ECAlgorithm.from_jwk(key),  # type: ignore[arg-type]
        algorithms=["ES256"],
        options={"verify_exp": False},
        issuer="phoneauth:default",
    )
    assert claims["sub"] == user.id
    assert claims["tenant"] == "default"
    assert claims["phone"] == "+4915112345678"


async def test_tokens_expire_rotate_and_stay_in_their_tenant(services: Services) -> None:
    clock = Clock()
    services.sessions.clock = clock
    await services.tenants.create("other", "Other", TenantKind.DEVELOPMENT)
    user = await services.users.create("default", phone="+4915112345678")
    issued = await services.sessions.sign_in(user)

    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("other", bearer=issued.access_token)
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("other", cookie=issued.cookie_token)
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", bearer=issued.access_token[:-4] + "AAAA")
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", bearer="not.a.jwt")
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default")

    await services.sessions.rotate("default")
    assert (await services.sessions.authenticate("default", bearer=issued.access_token)).user_id
    assert len((await services.sessions.jwks("default"))["keys"]) == 2
    clock.now += timedelta(minutes=59)
    assert (await services.sessions.authenticate("default", bearer=issued.access_token)).user_id
    clock.now += timedelta(hours=3)
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", bearer=issued.access_token)
    assert len((await services.sessions.jwks("default"))["keys"]) == 1

    principal = await services.sessions.authenticate("default", cookie=issued.cookie_token)
    await services.sessions.sign_out(principal)
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", cookie=issued.cookie_token)


async def test_signing_out_ends_the_access_token_at_once(services: Services) -> None:
    user = await services.users.create("default", phone="+4915112345678")
    issued = await services.sessions.sign_in(user)
    other = await services.sessions.sign_in(user)
    principal = await services.sessions.authenticate("default", bearer=issued.access_token)
    await services.sessions.sign_out(principal)
    with pytest.raises(NotSignedInError) as info:
        await services.sessions.authenticate("default", bearer=issued.access_token)
    assert "session has ended" in info.value.message
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", cookie=issued.cookie_token)
    # Only that session: the user's other device stays signed in.
    assert (await services.sessions.authenticate("default", bearer=other.access_token)).user_id


async def test_a_token_needs_a_live_session_of_its_own_user(services: Services) -> None:
    clock = Clock()
    services.sessions.clock = clock
    user = await services.users.create("default", phone="+4915112345678")
    someone = await services.users.create("default", phone="+4915187654321")
    theirs = await services.sessions.sign_in(someone)

    unknown = await services.sessions.access_token(user, "no-such-session")
    borrowed = await services.sessions.access_token(user, theirs.session_id)
    kid, pem = await services.sessions.signing_key("default")
    now = int(clock.now.timestamp())
    claims = {"iss": "phoneauth:default", "sub": user.id, "iat": now, "exp": now + 600}
    without_sid = jwt.encode(claims, pem, algorithm="ES256", headers={"kid": kid})
    for token in (unknown, borrowed, without_sid):
        with pytest.raises(NotSignedInError):
            await services.sessions.authenticate("default", bearer=token)

    # A session past its lifetime ends its tokens too, even those still inside their hour.
    issued = await services.sessions.sign_in(user)
    clock.now += timedelta(days=14)
    fresh = await services.sessions.access_token(user, issued.session_id)
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", bearer=fresh)


async def test_ending_all_sessions_spares_other_users(services: Services) -> None:
    user = await services.users.create("default", phone="+4915112345678")
    someone = await services.users.create("default", phone="+4915187654321")
    phone, laptop = await services.sessions.sign_in(user), await services.sessions.sign_in(user)
    theirs = await services.sessions.sign_in(someone)
    assert await services.sessions.end_all("default", user.id) == 2
    assert await services.sessions.end_all("default", user.id) == 0  # already ended
    for issued in (phone, laptop):
        with pytest.raises(NotSignedInError):
            await services.sessions.authenticate("default", bearer=issued.access_token)
        with pytest.raises(NotSignedInError):
            await services.sessions.authenticate("default", cookie=issued.cookie_token)
    assert (await services.sessions.authenticate("default", bearer=theirs.access_token)).user_id
    assert (await services.sessions.authenticate("default", cookie=theirs.cookie_token)).user_id


async def test_after_rotation_new_tokens_are_signed_with_the_new_key(services: Services) -> None:
    user = await services.users.create("default", phone="+4915112345679")
    before = await services.sessions.sign_in(user)
    await services.sessions.rotate("default")
    after = await services.sessions.sign_in(user)

    old_kid = jwt.get_unverified_header(before.access_token)["kid"]
    new_kid = jwt.get_unverified_header(after.access_token)["kid"]
    assert new_kid != old_kid
    jwks = (await services.sessions.jwks("default"))["keys"]
    assert {key["kid"] for key in jwks} == {old_kid, new_kid}
    for issued in (before, after):
        claims = jwt.decode(issued.access_token, options={"verify_signature": False})
        assert issued.access_token_expires_at == datetime.fromtimestamp(claims["exp"], UTC)
        assert (await services.sessions.authenticate("default", bearer=issued.access_token)).user_id
