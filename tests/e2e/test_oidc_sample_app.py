"""An app signs its users in through phoneauth, in Chromium, as a real relying party would.

The sample app (Starlette, on its own 127.0.0.1 port) uses Authlib's OAuth 2 client: `/login`
reads phoneauth's discovery document and redirects to the authorization endpoint (PKCE S256,
state, nonce); `/callback` checks the state, exchanges the code and validates the ID token against
the keys at `jwks_uri` (signature, issuer, audience, nonce) before it greets the user. phoneauth
sends the code through its Twilio connector to a fake Twilio over real HTTP.
"""

from __future__ import annotations

import html
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from playwright.sync_api import Browser, expect
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from tests import local_http
from tests.e2e.browsers import laptop_page, screenshot
from tests.e2e.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, FakeTwilio, deploy
from tests.servers import free_port, serve_in_thread

from phoneauth.domain.applications import Application, ApplicationType
from phoneauth.ids import new_id
from phoneauth.settings import Settings

with warnings.catch_warnings():
    # Authlib's httpx client announces a move to "httpx2" when imported; it works with httpx.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

pytestmark = pytest.mark.filterwarnings(
    # Authlib's httpx client announces a move to "httpx2"; it works with httpx as it is.
    "ignore::authlib.deprecate.AuthlibDeprecationWarning"
)

SCOPE = "openid profile phone"


@dataclass
class SampleApp:
    """A relying party: all it knows of phoneauth is the issuer and its own client id."""

    issuer: str
    client_id: str = ""
    url: str = ""

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/callback"

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.home),
                Route("/login", self.login),
                Route("/callback", self.callback),
            ],
            # The pending login lives in the app's own signed cookie (named apart from
            # phoneauth's: both sites are on 127.0.0.1, and cookies ignore the port).
            middleware=[
                Middleware(
                    SessionMiddleware,
                    secret_key=secrets.token_urlsafe(32),
                    session_cookie="sample_app",
                )
            ],
        )

    def client(self) -> Any:
        return AsyncOAuth2Client(
            self.client_id,
            redirect_uri=self.redirect_uri,
            scope=SCOPE,
            code_challenge_method="S256",
            token_endpoint_auth_method="none",  # a public client (SPA): PKCE instead of a secret
            timeout=30,
        )

    async def metadata(self) -> dict[str, Any]:
        async with local_http.async_client(timeout=30) as http:
            found = await http.get(f"{self.issuer}/.well-known/openid-configuration")
        found.raise_for_status()
        document: dict[str, Any] = found.json()
        assert document["issuer"] == self.issuer
        return document

    async def home(self, request: Request) -> Response:
        return HTMLResponse('<h1>Sample app</h1><a href="/login">Sign in</a>')

    async def login(self, request: Request) -> Response:
        metadata = await self.metadata()
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        async with self.client() as client:
            url, state = client.create_authorization_url(
                metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
            )
        request.session.update(state=state, verifier=verifier, nonce=nonce)
        return RedirectResponse(url, status_code=303)

    async def callback(self, request: Request) -> Response:
        pending = dict(request.session)
        request.session.clear()
        if not pending or request.query_params.get("state") != pending["state"]:
            return HTMLResponse("Unexpected state", status_code=400)
        if "error" in request.query_params:
            return HTMLResponse(html.escape(request.query_params["error"]), status_code=400)
        metadata = await self.metadata()
        async with self.client() as client:
            token = await client.fetch_token(
                metadata["token_endpoint"],
                authorization_response=str(request.url),
                code_verifier=pending["verifier"],
            )
            keys = (await client.get(metadata["jwks_uri"])).json()
        id_token = token["id_token"]
        key = jwt.PyJWKSet.from_dict(keys)[jwt.get_unverified_header(id_token)["kid"]]
        claims = jwt.decode(
            id_token,
            key,
            algorithms=metadata["id_token_signing_alg_values_supported"],
            audience=self.client_id,
            issuer=metadata["issuer"],
            options={"require": ["exp", "iat", "sub", "nonce"]},
        )
        if claims["nonce"] != pending["nonce"]:
            return HTMLResponse("Unexpected nonce", status_code=400)
        phone = html.escape(str(claims["phone_number"]))
        return HTMLResponse(f"<h1>Signed in as <span data-phone>{phone}</span></h1>")


def test_an_app_signs_its_user_in_through_the_pages(
    browser: Browser, twilio: FakeTwilio, tmp_path: Path
) -> None:
    port = free_port()  # the issuer names the port, so it is chosen before the server starts
    phoneauth_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'phoneauth.db'}",
        secret_key=SecretStr("sample-app-secret-key"),
        connector_allow_private_hosts=True,  # the fake Twilio listens on 127.0.0.1
        public_url=phoneauth_url,
    )
    sample = SampleApp(issuer=f"{phoneauth_url}/oidc")
    with deploy(settings, port=port) as phoneauth, serve_in_thread(sample.asgi()) as sample_url:
        sample.url = sample_url
        twilio_config = {
            "accountSID": ACCOUNT_SID,
            "authToken": AUTH_TOKEN,
            "fromMessagingServiceSID": SERVICE_SID,
            "templates": [{"usageType": "Generic", "content": "Your code is {{code}}."}],
            "endpoint": twilio.url,
        }
        phone = "+4915112345678"
        with local_http.client(base_url=phoneauth.url, headers=phoneauth.auth, timeout=30) as admin:
            made = admin.post(
                "/api/connectors",
                json={"connectorId": "twilio-short-message-service", "config": twilio_config},
            )
            assert made.status_code == 200, made.text
            user = admin.post("/api/users", json={"primaryPhone": phone})
            assert user.status_code == 200, user.text
        spa = Application(
            tenant_id="default",
            id=new_id(),
            name="Sample app",
            type=ApplicationType.SPA,
            created_at=datetime.now(UTC),
            redirect_uris=(sample.redirect_uri,),
        )
        sample.client_id = phoneauth.run(phoneauth.services.applications.create(spa)).application.id

        with laptop_page(browser, "de-DE") as page:
            page.goto(sample_url)
            page.get_by_role("link", name="Sign in").click()
            # The app's authorization request lands on phoneauth's own sign-in page.
            expect(page).to_have_url(f"{phoneauth_url}/sign-in?app_id={sample.client_id}")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            # The page's scripts (which format the number as typed) run before "load": typing
            # earlier, on a busy machine, raced them.
            page.wait_for_load_state("load")
            field = page.locator("#phone")
            field.press_sequentially("015112345678")
            expect(field).to_have_value("01511 2345678")
            page.get_by_role("button", name="Send code").click()
            step = page.locator('form[data-step="code"]')
            expect(step).to_be_visible()
            assert [sms.to for sms in twilio.messages] == [phone]
            step.locator("#code").fill(twilio.messages[0].code)
            step.get_by_role("button", name="Continue").click()

            # Back on the app, which trusted nothing it did not verify.
            expect(page).to_have_url(re.compile(re.escape(f"{sample_url}/callback?")))
            expect(page.locator("[data-phone]")).to_have_text(phone.removeprefix("+"))
            screenshot(page, "oidc-sample-app-signed-in")
            # The finished sign-in form is not in the history: Back is the app's page before.
            page.go_back()
            expect(page).to_have_url(f"{sample_url}/")
