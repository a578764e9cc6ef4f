"""The OpenID Connect provider against a real relying-party library (Authlib's httpx client),
over real HTTP on 127.0.0.1, on SQLite and on PostgreSQL: one server per database for the module.

The user signs in the way an app's user does: the authorization URL sends the browser to the
sign-in pages, the Experience API proves the phone number with the code from the outbox, and
`submit` continues the authorization to the app's redirect URI.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Iterator

import httpx
import jwt
import pytest
from tests.e2e.oidc_support import (
    AUTHLIB_WARNINGS,
    LOGOUT,
    MANAGEMENT,
    REDIRECT,
    AsyncOAuth2Client,
    Provider,
    authorize,
    exchange,
    m2m_token,
    query_of,
    registered,
    rp,
    serve_provider,
    sign_in_on_pages,
    verified_id_token,
)

pytestmark = pytest.mark.filterwarnings(AUTHLIB_WARNINGS)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    with serve_provider(request.param, tmp_path_factory.mktemp("oidc")) as served:
        yield served


# --- discovery ---------------------------------------------------------------------------------


async def test_discovery_names_logtos_paths_under_the_issuer(provider: Provider) -> None:
    async with provider.browser() as http:
        found = (await http.get("/oidc/.well-known/openid-configuration")).json()
        per_tenant = (await http.get("/t/default/oidc/.well-known/openid-configuration")).json()
        jwks = (await http.get("/oidc/jwks")).json()
    issuer = provider.issuer
    assert found["issuer"] == issuer
    assert per_tenant["issuer"] == issuer  # one issuer per tenant, whichever path asked
    assert found["authorization_endpoint"] == f"{issuer}/auth"
    assert found["token_endpoint"] == f"{issuer}/token"
    assert found["userinfo_endpoint"] == f"{issuer}/me"
    assert found["jwks_uri"] == f"{issuer}/jwks"
    assert found["end_session_endpoint"] == f"{issuer}/session/end"
    assert found["revocation_endpoint"] == f"{issuer}/token/revocation"
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert found["id_token_signing_alg_values_supported"] == ["ES256"]
    assert {"openid", "profile", "phone", "email", "offline_access"} <= set(
        found["scopes_supported"]
    )
    assert {key["alg"] for key in jwks["keys"]} == {"ES256"}


# --- the code flow -----------------------------------------------------------------------------


async def test_code_flow_with_pkce_gives_verified_tokens_and_userinfo(provider: Provider) -> None:
    phone, user_id = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    token = await exchange(provider, authorized, provider.spa)
    assert token["token_type"] == "Bearer"
    assert token["refresh_token"]  # offline_access was asked
    claims = await verified_id_token(provider, token["id_token"], provider.spa)
    assert claims["sub"] == user_id
    assert claims["nonce"] == authorized.nonce
    assert claims["phone_number"] == phone.removeprefix("+")
    assert claims["phone_number_verified"] is True
    access = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert access["aud"] == f"{provider.issuer}/me"
    assert access["client_id"] == provider.spa
    async with provider.browser() as http:
        me = await http.get(
            "/oidc/me", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
    assert me.status_code == 200, me.text
    assert me.json()["sub"] == user_id
    assert me.json()["phone_number"] == phone.removeprefix("+")


async def test_a_session_skips_the_pages_and_prompts_are_obeyed(provider: Provider) -> None:
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        await authorize(provider, provider.spa, browser, phone)
        again = await authorize(provider, provider.spa, browser, None)  # no pages this time
        assert again.code
        client = rp(provider, provider.spa)
        url, _ = client.create_authorization_url(
            f"{provider.issuer}/auth", scope="openid", code_verifier="v" * 50, prompt="login"
        )
        forced = await browser.get(url)
        assert forced.status_code == 303
        assert forced.headers["location"].startswith("/sign-in?app_id=")
    async with provider.browser() as stranger:
        url, state = client.create_authorization_url(
            f"{provider.issuer}/auth", scope="openid", code_verifier="v" * 50, prompt="none"
        )
        silent = await stranger.get(url)
    assert silent.status_code == 303
    assert query_of(silent.headers["location"]) == {"error": "login_required", "state": state}
    assert silent.headers["location"].startswith(REDIRECT)


async def test_a_confidential_client_authenticates_with_basic_or_post(provider: Provider) -> None:
    phone, user_id = await registered(provider)
    async with provider.browser() as browser:
        first = await authorize(provider, provider.web, browser, phone, pkce=False)
        second = await authorize(provider, provider.web, browser, None, pkce=False)
    for authorized, method in ((first, "client_secret_basic"), (second, "client_secret_post")):
        async with rp(
            provider, provider.web, provider.web_secret, token_endpoint_auth_method=method
        ) as client:
            token = await client.fetch_token(
                f"{provider.issuer}/token", grant_type="authorization_code", code=authorized.code
            )
        claims = await verified_id_token(provider, token["id_token"], provider.web)
        assert claims["sub"] == user_id
    async with provider.browser() as browser:
        third = await authorize(provider, provider.web, browser, phone, pkce=False)
    async with provider.browser() as http:
        wrong = await http.post(
            "/oidc/token",
            data={"grant_type": "authorization_code", "code": third.code, "redirect_uri": REDIRECT},
            auth=(provider.web, "not-the-secret"),
        )
        anonymous = await http.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": third.code,
                "redirect_uri": REDIRECT,
                "client_id": provider.web,
            },
        )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert anonymous.status_code in (400, 401)
    assert anonymous.json()["error"] == "invalid_client"


# --- refresh tokens ----------------------------------------------------------------------------


async def refresh(provider: Provider, refresh_token: str) -> httpx.Response:
    async with provider.browser() as http:
        return await http.post(
            "/oidc/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": provider.spa,
            },
        )


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(provider: Provider) -> None:
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    token = await exchange(provider, authorized, provider.spa)
    async with rp(provider, provider.spa) as client:
        rotated = await client.refresh_token(
            f"{provider.issuer}/token", refresh_token=token["refresh_token"]
        )
    assert rotated["refresh_token"] != token["refresh_token"]
    assert rotated["id_token"]
    replay = await refresh(provider, token["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The replay revoked the grant: the newest token of the family is dead too.
    newest = await refresh(provider, rotated["refresh_token"])
    assert newest.json()["error"] == "invalid_grant"
    async with provider.browser() as http:
        me = await http.get(
            "/oidc/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}
        )
    assert me.status_code == 401
    assert 'error="invalid_token"' in me.headers["www-authenticate"]


async def test_a_reused_code_is_refused_and_revokes_what_it_issued(provider: Provider) -> None:
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    token = await exchange(provider, authorized, provider.spa)
    async with provider.browser() as http:
        again = await http.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": authorized.code,
                "redirect_uri": REDIRECT,
                "client_id": provider.spa,
                "code_verifier": authorized.verifier,
            },
        )
        me = await http.get(
            "/oidc/me", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert (await refresh(provider, token["refresh_token"])).json()["error"] == "invalid_grant"
    assert me.status_code == 401


async def test_revocation_ends_a_refresh_token(provider: Provider) -> None:
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    token = await exchange(provider, authorized, provider.spa)
    async with rp(provider, provider.spa) as client:
        revoked = await client.revoke_token(
            f"{provider.issuer}/token/revocation",
            token=token["refresh_token"],
            token_type_hint="refresh_token",
        )
        unknown = await client.revoke_token(
            f"{provider.issuer}/token/revocation", token="never-issued"
        )
    assert revoked.status_code == 200
    assert unknown.status_code == 200  # RFC 7009: nothing to say about tokens it does not know
    assert (await refresh(provider, token["refresh_token"])).json()["error"] == "invalid_grant"


# --- sessions end grants -----------------------------------------------------------------------


async def test_end_session_signs_out_and_returns_to_a_registered_uri(provider: Provider) -> None:
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
        token = await exchange(provider, authorized, provider.spa)
        refused = await browser.get(
            "/oidc/session/end",
            params={"client_id": provider.spa, "post_logout_redirect_uri": "http://evil.test/"},
        )
        assert refused.status_code == 400
        assert "phoneauth_session" in browser.cookies  # nothing happened
        ended = await browser.get(
            "/oidc/session/end",
            params={
                "id_token_hint": token["id_token"],
                "post_logout_redirect_uri": LOGOUT,
                "state": "bye",
            },
        )
        assert ended.status_code == 303
        assert ended.headers["location"] == f"{LOGOUT}?state=bye"
        assert "phoneauth_session" not in browser.cookies
        # Signed out: the next authorization shows the pages again.
        client = rp(provider, provider.spa)
        url, _ = client.create_authorization_url(
            f"{provider.issuer}/auth", scope="openid", code_verifier="v" * 50
        )
        assert (await browser.get(url)).headers["location"].startswith("/sign-in")
    assert (await refresh(provider, token["refresh_token"])).json()["error"] == "invalid_grant"


async def test_deleting_the_user_or_resetting_sessions_ends_refresh(provider: Provider) -> None:
    phone, user_id = await registered(provider)
    async with provider.browser() as browser:
        first = await exchange(
            provider, await authorize(provider, provider.spa, browser, phone), provider.spa
        )
    services = provider.deployment.services
    provider.deployment.run(services.sessions.end_all("default", user_id))  # password reset
    assert (await refresh(provider, first["refresh_token"])).json()["error"] == "invalid_grant"
    async with provider.browser() as browser:
        second = await exchange(
            provider, await authorize(provider, provider.spa, browser, phone), provider.spa
        )
    async with provider.admin() as admin:
        assert (await admin.delete(f"/api/users/{user_id}")).status_code == 204
    assert (await refresh(provider, second["refresh_token"])).json()["error"] == "invalid_grant"


# --- bad requests ------------------------------------------------------------------------------


async def test_pkce_is_required_of_public_clients_and_checked(provider: Provider) -> None:
    async with provider.browser() as browser:
        bare = await browser.get(
            "/oidc/auth",
            params={
                "client_id": provider.spa,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "scope": "openid",
                "state": "s1",
            },
        )
        plain = await browser.get(
            "/oidc/auth",
            params={
                "client_id": provider.spa,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "scope": "openid",
                "state": "s2",
                "code_challenge": "x" * 43,
                "code_challenge_method": "plain",
            },
        )
    for answer, state in ((bare, "s1"), (plain, "s2")):
        assert answer.status_code == 303
        query = query_of(answer.headers["location"])
        assert query["error"] == "invalid_request"
        assert query["state"] == state
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    authorized.verifier = secrets.token_urlsafe(48)  # not the one the challenge was made of
    async with provider.browser() as http:
        wrong = await http.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": authorized.code,
                "redirect_uri": REDIRECT,
                "client_id": provider.spa,
                "code_verifier": authorized.verifier,
            },
        )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"


async def test_redirect_uris_must_match_exactly(provider: Provider) -> None:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=")
    async with provider.browser() as browser:
        answer = await browser.get(
            "/oidc/auth",
            params={
                "client_id": provider.spa,
                "redirect_uri": REDIRECT + "/",
                "response_type": "code",
                "scope": "openid",
                "code_challenge": challenge.decode(),
                "code_challenge_method": "S256",
            },
        )
        unknown = await browser.get(
            "/oidc/auth", params={"client_id": "nobody", "redirect_uri": REDIRECT}
        )
    # Never sent to an unregistered address: a page for the person instead.
    assert answer.status_code == 400
    assert "text/html" in answer.headers["content-type"]
    assert "does not work" in answer.text
    assert unknown.status_code == 400
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    async with provider.browser() as http:
        moved = await http.post(
            "/oidc/token",
            data={
                "grant_type": "authorization_code",
                "code": authorized.code,
                "redirect_uri": REDIRECT + "?x=1",
                "client_id": provider.spa,
                "code_verifier": authorized.verifier,
            },
        )
    assert moved.json()["error"] == "invalid_grant"


async def test_token_endpoint_errors_use_the_protocol_form(provider: Provider) -> None:
    async with provider.browser() as http:
        unsupported = await http.post(
            "/oidc/token", data={"grant_type": "password", "client_id": provider.spa}
        )
        no_code = await http.post(
            "/oidc/token", data={"grant_type": "authorization_code", "client_id": provider.spa}
        )
        bogus = await http.post(
            "/oidc/token",
            data={"grant_type": "authorization_code", "client_id": provider.spa, "code": "nope"},
        )
    assert unsupported.status_code == 400
    assert unsupported.json()["error"] == "unsupported_grant_type"
    assert no_code.json()["error"] == "invalid_request"
    assert bogus.json()["error"] == "invalid_grant"
    assert bogus.headers["cache-control"] == "no-store"


# --- machine to machine ------------------------------------------------------------------------


async def test_client_credentials_for_the_management_api(provider: Provider) -> None:
    async with AsyncOAuth2Client(provider.m2m, provider.m2m_secret) as client:
        token = await client.fetch_token(
            f"{provider.issuer}/token",
            grant_type="client_credentials",
            resource=MANAGEMENT,
            scope="all",
        )
    access = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert access["aud"] == MANAGEMENT
    assert access["sub"] == access["client_id"] == provider.m2m
    assert access["scope"] == "all"
    assert "refresh_token" not in token
    no_role = await m2m_token(
        provider, provider.lonely_m2m, provider.lonely_m2m_secret, resource=MANAGEMENT
    )
    unknown = await m2m_token(
        provider, provider.m2m, provider.m2m_secret, resource="https://api.unknown.test"
    )
    wrong = await m2m_token(provider, provider.m2m, "wrong", resource=MANAGEMENT)
    assert no_role.status_code == 400
    assert no_role.json()["error"] == "invalid_target"
    assert unknown.json()["error"] == "invalid_target"
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    async with provider.browser() as http:
        public = await http.post(
            "/oidc/token", data={"grant_type": "client_credentials", "client_id": provider.spa}
        )
    assert public.json()["error"] in ("unauthorized_client", "invalid_client")


async def test_no_code_token_or_secret_reaches_the_log(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    token = await exchange(provider, authorized, provider.spa)
    await refresh(provider, token["refresh_token"])
    await refresh(provider, token["refresh_token"])  # a replay, logged as such
    await m2m_token(provider, provider.m2m, provider.m2m_secret, resource=MANAGEMENT)
    # The server's records (the test's own HTTP client logs the answers it reads: not ours).
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(record.getMessage() for record in server_side)
    assert "used again" in logged
    for secret in (
        authorized.code,
        token["access_token"],
        token["refresh_token"],
        token["id_token"],
        provider.m2m_secret,
    ):
        assert secret not in logged


async def test_browser_apps_get_cors_from_their_own_origins_only(provider: Provider) -> None:
    phone, _ = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone)
    async with provider.browser() as http:
        discovery = await http.get(
            "/oidc/.well-known/openid-configuration", headers={"Origin": "http://any.test"}
        )
        preflight = await http.options(
            "/oidc/token",
            headers={"Origin": "http://app.test", "Access-Control-Request-Method": "POST"},
        )
        exchange_body = {
            "grant_type": "authorization_code",
            "code": authorized.code,
            "redirect_uri": REDIRECT,
            "client_id": provider.spa,
            "code_verifier": authorized.verifier,
        }
        from_app = await http.post(
            "/oidc/token", data=exchange_body, headers={"Origin": "http://app.test"}
        )
        from_elsewhere = await http.post(
            "/oidc/token",
            data={**exchange_body, "code": "whatever"},
            headers={"Origin": "http://evil.test"},
        )
        me = await http.get(
            "/oidc/me",
            headers={
                "Authorization": f"Bearer {from_app.json()['access_token']}",
                "Origin": "http://app.test",
            },
        )
    assert discovery.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert from_app.status_code == 200, from_app.text
    assert from_app.headers["access-control-allow-origin"] == "http://app.test"
    assert "access-control-allow-origin" not in from_elsewhere.headers
    assert me.headers["access-control-allow-origin"] == "http://app.test"


async def test_an_abandoned_app_sign_in_never_captures_a_later_one(provider: Provider) -> None:
    phone, _ = await registered(provider)
    client = rp(provider, provider.spa)
    url, _ = client.create_authorization_url(
        f"{provider.issuer}/auth", scope="openid", code_verifier="v" * 50
    )
    async with provider.browser() as browser:
        to_pages = await browser.get(url)
        page = await browser.get(to_pages.headers["location"])
        # On the way from the app, the links between the pages keep the app.
        assert f'href="/register?app_id={provider.spa}"' in page.text
        assert "phoneauth_oidc" in browser.cookies
        # The person leaves, and later opens phoneauth's own sign-in page.
        own = await browser.get("/sign-in")
        assert own.status_code == 200
        assert "phoneauth_oidc" not in browser.cookies
        assert not (await sign_in_on_pages(provider, browser, phone)).startswith(provider.issuer)
