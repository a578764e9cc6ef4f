"""What the OpenID Connect tests share: a server per database with applications made, the
user's sign-in on the pages, and the relying party (Authlib's httpx client, not our own code).
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from authlib.deprecate import AuthlibDeprecationWarning
from pydantic import SecretStr
from tests import local_http
from tests.conftest import database_for
from tests.e2e.conftest import Deployment, deploy
from tests.servers import free_port

from phoneauth.domain.applications import (
    MANAGEMENT_API_ACCESS_ROLE_ID,
    Application,
    ApplicationType,
)
from phoneauth.ids import new_id
from phoneauth.settings import Settings

with warnings.catch_warnings():
    # Authlib's httpx client announces a move to "httpx2" when imported; it works with httpx.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

AUTHLIB_WARNINGS = "ignore::authlib.deprecate.AuthlibDeprecationWarning"
"""For `pytestmark`: Authlib's httpx client announces a move to "httpx2"; it works as it is."""

REDIRECT = "http://app.test/callback"
LOGOUT = "http://app.test/signed-out"
MANAGEMENT = "https://default.logto.app/api"


@dataclass
class Provider:
    deployment: Deployment
    spa: str
    web: str
    web_secret: str
    m2m: str
    m2m_secret: str
    lonely_m2m: str
    lonely_m2m_secret: str

    @property
    def url(self) -> str:
        return self.deployment.url

    @property
    def issuer(self) -> str:
        return f"{self.url}/oidc"

    def admin(self) -> httpx.AsyncClient:
        return local_http.async_client(
            base_url=self.url, headers=self.deployment.auth, timeout=30, follow_redirects=False
        )

    def browser(self) -> httpx.AsyncClient:
        return local_http.async_client(base_url=self.url, timeout=30, follow_redirects=False)


def application_record(kind: ApplicationType, name: str, tenant_id: str = "default") -> Application:
    """An application record with the test redirect URIs (stored by `Applications.create`)."""
    return Application(
        tenant_id=tenant_id,
        id=new_id(),
        name=name,
        type=kind,
        created_at=datetime.now(UTC),
        redirect_uris=(REDIRECT,),
        post_logout_redirect_uris=(LOGOUT,),
    )


@contextmanager
def serve_provider(kind: str, folder: Path) -> Iterator[Provider]:
    """A server on `kind` ("sqlite" or "postgresql") with the outbox SMS connector, generous
    send budgets and four applications: a SPA, a Traditional app, and two MachineToMachine
    apps, one holding the Management API access role and one without it."""
    with database_for(kind, folder) as database:
        port = free_port()
        settings = Settings(
            data_dir=folder / "data",
            database_url=database.url,
            database_schema=database.schema,
            secret_key=SecretStr("test-secret-key"),
            connector_allow_private_hosts=True,
            public_url=f"http://127.0.0.1:{port}",
        )
        with deploy(settings, port=port) as deployed:
            services = deployed.services
            with local_http.client(
                base_url=deployed.url, headers=deployed.auth, timeout=30
            ) as admin:
                made = admin.post(
                    "/api/connectors", json={"connectorId": "outbox-sms", "config": {}}
                )
                assert made.status_code == 200, made.text
                budgets = {"rateLimits": {"ipLimit": 100000, "recipientLimit": 1000}}
                assert admin.patch("/api/tenant/settings", json=budgets).status_code == 200
            spa = deployed.run(
                services.applications.create(application_record(ApplicationType.SPA, "SPA"))
            )
            web = deployed.run(
                services.applications.create(application_record(ApplicationType.TRADITIONAL, "Web"))
            )
            m2m = deployed.run(
                services.applications.create(
                    application_record(ApplicationType.MACHINE_TO_MACHINE, "Robot")
                )
            )
            deployed.run(
                services.applications.add_role(
                    "default", m2m.application.id, MANAGEMENT_API_ACCESS_ROLE_ID
                )
            )
            lonely = deployed.run(
                services.applications.create(
                    application_record(ApplicationType.MACHINE_TO_MACHINE, "No role")
                )
            )
            assert web.secret
            assert m2m.secret
            assert lonely.secret
            yield Provider(
                deployed,
                spa.application.id,
                web.application.id,
                web.secret,
                m2m.application.id,
                m2m.secret,
                lonely.application.id,
                lonely.secret,
            )


def new_phone() -> str:
    return "+4915" + str(secrets.randbelow(10**8)).zfill(9)


async def registered(provider: Provider) -> tuple[str, str]:
    """A user with a phone number (made over the Management API): its phone and id."""
    phone = new_phone()
    async with provider.admin() as admin:
        made = await admin.post("/api/users", json={"primaryPhone": phone})
    assert made.status_code == 200, made.text
    return phone, str(made.json()["id"])


async def sign_in_on_pages(provider: Provider, browser: httpx.AsyncClient, phone: str) -> str:
    """What the sign-in page does, through the Experience API; the `redirectTo` of submit."""
    started = await browser.put("/api/experience", json={"interactionEvent": "SignIn"})
    assert started.status_code == 204, started.text
    identifier = {"type": "phone", "value": phone}
    sent = await browser.post(
        "/api/experience/verification/verification-code",
        json={"identifier": identifier, "interactionEvent": "SignIn"},
    )
    assert sent.status_code == 200, sent.text
    verification_id = sent.json()["verificationId"]
    async with provider.admin() as admin:
        texts = (await admin.get("/api/outbox", params={"phone": phone})).json()
    verified = await browser.post(
        "/api/experience/verification/verification-code/verify",
        json={
            "identifier": identifier,
            "verificationId": verification_id,
            "code": texts[0]["code"],
        },
    )
    assert verified.status_code == 200, verified.text
    identified = await browser.post(
        "/api/experience/identification", json={"verificationId": verification_id}
    )
    assert identified.status_code == 204, identified.text
    submitted = await browser.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    return str(submitted.json()["redirectTo"])


def rp(provider: Provider, client_id: str, secret: str | None = None, **extra: Any) -> Any:
    """The relying party: Authlib's OAuth 2 client, PKCE S256 for public clients."""
    if secret is None:
        return AsyncOAuth2Client(
            client_id,
            redirect_uri=REDIRECT,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",
            **extra,
        )
    return AsyncOAuth2Client(client_id, secret, redirect_uri=REDIRECT, **extra)


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


@dataclass
class Authorized:
    code: str
    state: str
    verifier: str
    nonce: str
    browser: httpx.AsyncClient


async def authorize(
    provider: Provider,
    client_id: str,
    browser: httpx.AsyncClient,
    phone: str | None,
    *,
    scope: str = "openid profile phone offline_access",
    pkce: bool = True,
    **params: str,
) -> Authorized:
    """The authorization URL the library builds, followed by the browser; signs in with
    `phone` when the pages are shown."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    client = rp(provider, client_id, None if pkce else "unused")
    url, state = client.create_authorization_url(
        f"{provider.issuer}/auth",
        scope=scope,
        nonce=nonce,
        **({"code_verifier": verifier} if pkce else {}),
        **params,
    )
    answer = await browser.get(url)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    if location.startswith("/sign-in"):
        assert phone is not None, "the pages were shown to a browser with a session"
        assert f"app_id={client_id}" in location
        resume = await sign_in_on_pages(provider, browser, phone)
        assert resume.startswith(f"{provider.issuer}/auth/")
        answer = await browser.get(resume)
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    query = query_of(location)
    assert query["state"] == state
    return Authorized(query["code"], state, verifier, nonce, browser)


async def exchange(provider: Provider, authorized: Authorized, client_id: str) -> dict[str, Any]:
    async with rp(provider, client_id) as client:
        token: dict[str, Any] = await client.fetch_token(
            f"{provider.issuer}/token",
            grant_type="authorization_code",
            code=authorized.code,
            code_verifier=authorized.verifier,
        )
    return token


async def verified_id_token(provider: Provider, id_token: str, audience: str) -> dict[str, Any]:
    """The ID token checked as an app checks it: signature by a key from the JWKS the
    discovery document names, issuer, audience, expiry."""
    async with provider.browser() as http:
        discovery = (await http.get("/oidc/.well-known/openid-configuration")).json()
        jwks = (await http.get(discovery["jwks_uri"].removeprefix(provider.url))).json()
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=discovery["issuer"],
    )
    return claims


async def m2m_token(
    provider: Provider, client_id: str, secret: str, **params: str
) -> httpx.Response:
    async with provider.browser() as http:
        return await http.post(
            "/oidc/token",
            data={"grant_type": "client_credentials", **params},
            auth=(client_id, secret),
        )
