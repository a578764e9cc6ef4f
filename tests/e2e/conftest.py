"""The app as users run it: uvicorn on a random 127.0.0.1 port, reached over real HTTP.

Also a fake Twilio on its own port, for the Twilio connector's `endpoint` override.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect, sync_playwright
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from tests.e2e.browsers import CHROMIUM, CHROMIUM_ARGS
from tests.servers import serve_in_thread

from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.wiring import Services

T = TypeVar("T")


class LoopRecorder:
    """Passes every ASGI call to the app and remembers the event loop uvicorn runs it on."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Deployment:
    url: str
    app: FastAPI
    admin_key: str
    loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one of the app's own coroutines on the loop its server runs on (its database
        pool lives there), from a test's thread."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


@contextmanager
def deploy(settings: Settings, port: int = 0) -> Iterator[Deployment]:
    """Serve a new app with `settings` until the block ends (on `port`, else a free one); a
    global admin key is ready."""
    with serve_app(create_app(settings), port) as deployed:
        yield deployed


@contextmanager
def serve_app(app: FastAPI, port: int = 0) -> Iterator[Deployment]:
    """Serve `app` (its lifespan started by the server) until the block ends (on `port`, else a
    free one); a global admin key is ready."""
    recorder = LoopRecorder(app)
    with serve_in_thread(recorder, port=port) as url:
        assert recorder.loop is not None  # the lifespan ran through the recorder
        # The app's own service makes the key, on the app's loop (its database pool lives there).
        services: Services = app.state.services
        created = services.admin_keys.create("end-to-end tests")
        _, key = asyncio.run_coroutine_threadsafe(created, recorder.loop).result(timeout=30)
        yield Deployment(url=url, app=app, admin_key=key, loop=recorder.loop)


@contextmanager
def deploy_for_test(
    settings: Settings,
    module_settings: Settings,
    module_app: FastAPI,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    """The server runs the lifespan anew; the app object is the module's (its routes built once,
    see `module_app`) unless the test has settings of its own or runs that object in-process
    too (`app`)."""
    shared = settings is module_settings and "app" not in request.fixturenames
    with serve_app(module_app if shared else create_app(settings)) as deployed:
        yield deployed


@pytest.fixture
def deployment(
    settings: Settings,
    module_settings: Settings,
    module_app: FastAPI,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    """The app served on the test's database: an SQLite file, then PostgreSQL."""
    with deploy_for_test(settings, module_settings, module_app, request) as deployed:
        yield deployed


ACCOUNT_SID = "AC" + "e2e0" * 8
AUTH_TOKEN = "e2e-auth-token-5b7f0c"
SERVICE_SID = "MG" + "5e" * 16
E164 = re.compile(r"\+[1-9]\d{6,14}")


# --- a fake Twilio -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sms:
    sid: str
    to: str
    body: str
    messaging_service_sid: str
    status_callback: str | None = None

    @property
    def code(self) -> str:
        found = re.findall(r"\b\d{6}\b", self.body)
        assert len(found) == 1, self.body
        return str(found[0])


@dataclass
class FakeTwilio:
    """Twilio's Messages API as phoneauth uses it: Basic auth, the form fields, 201 or an error
    in Twilio's JSON shape. `messages` keeps what Twilio would deliver; `answers` every status."""

    url: str = ""
    messages: list[Sms] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def asgi(self) -> Starlette:
        path = "/2010-04-01/Accounts/{account_sid}/Messages.json"
        return Starlette(routes=[Route(path, self._create_message, methods=["POST"])])

    async def _create_message(self, request: Request) -> JSONResponse:
        response = await self._answer(request)
        self.answers.append(response.status_code)
        return response

    async def _answer(self, request: Request) -> JSONResponse:
        account_sid = request.path_params["account_sid"]
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        user, _, password = base64.b64decode(credentials).decode().partition(":")
        if (scheme, user, password, account_sid) != ("Basic", ACCOUNT_SID, AUTH_TOKEN, user):
            return _twilio_error(401, 20003, "Authenticate")
        content_type = request.headers.get("content-type", "").partition(";")[0]
        assert content_type == "application/x-www-form-urlencoded"
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to = form.get("To", "")
        if not E164.fullmatch(to):
            return _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if form.get("MessagingServiceSid") != SERVICE_SID:
            return _twilio_error(400, 21705, "The Messaging Service Sid is invalid.")
        if not form.get("Body"):
            return _twilio_error(400, 21602, "Message body is required.")
        sms = Sms(
            "SM" + uuid.uuid4().hex,
            to,
            form["Body"],
            form["MessagingServiceSid"],
            form.get("StatusCallback"),
        )
        self.messages.append(sms)
        now = format_datetime(datetime.now(UTC), usegmt=True)
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sms.sid}.json"
        resource: dict[str, Any] = {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": sms.body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": None,
            "messaging_service_sid": SERVICE_SID,
            "num_media": "0",
            "num_segments": "0",
            "price": None,
            "price_unit": None,
            "sid": sms.sid,
            "status": "accepted",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": to,
            "uri": uri,
        }
        return JSONResponse(resource, status_code=201)


def _twilio_error(status: int, code: int, message: str) -> JSONResponse:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    body = {"code": code, "message": message, "more_info": more_info, "status": status}
    return JSONResponse(body, status_code=status)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with serve_in_thread(fake.asgi()) as url:
        fake.url = url
        yield fake


# Playwright's `expect` gives up after 5 s, which a busy machine can miss (two test workers on two
# cores); a page that never shows what is expected still fails, only later.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module (the console and the end-user pages)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def deploy_on_sqlite(folder: Path, secret: str) -> Iterator[Deployment]:
    """A server on a fresh SQLite file in `folder`, whatever PHONEAUTH_* the shell has set."""
    with pytest.MonkeyPatch.context() as environment:
        for key in [key for key in os.environ if key.startswith("PHONEAUTH_")]:
            environment.delenv(key)
        settings = Settings(
            data_dir=folder / "data",
            database_url=f"sqlite+aiosqlite:///{folder / 'phoneauth.db'}",
            secret_key=SecretStr(secret),
            connector_allow_private_hosts=True,  # the fake providers listen on 127.0.0.1
        )
        with deploy(settings) as deployed:
            yield deployed
