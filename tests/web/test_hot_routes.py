"""The code routes served ahead of FastAPI's stack answer exactly as FastAPI's own routes do."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.web.hot_routes import PhoneauthApp
from phoneauth.wiring import Services

PHONE = "+4915112345678"
SEND, VERIFY = "/api/verification-codes", "/api/verification-codes/verify"
COMPARED_HEADERS = ("content-type", "retry-after", "allow", "www-authenticate", "location")


class PassThrough:
    """Middleware that changes nothing; any middleware turns the shortcut off."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


@asynccontextmanager
async def running(tmp_path: Path, *, shortcut: bool) -> AsyncIterator[tuple[PhoneauthApp, str]]:
    settings = Settings(data_dir=tmp_path / "data", secret_key=SecretStr("test-secret-key"))
    app = create_app(settings)
    assert isinstance(app, PhoneauthApp)
    if not shortcut:
        app.add_middleware(PassThrough)
    async with app.router.lifespan_context(app):
        services: Services = app.state.services
        _, key = await services.admin_keys.create("tests")
        yield app, key


def client(app: PhoneauthApp, key: str | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://phoneauth.test",
        headers={"Authorization": f"Bearer {key}"} if key else {},
    )


def answer(response: httpx.Response) -> dict[str, Any]:
    """What a caller sees, minus what differs on every call (the correlation id of a 500)."""
    body: Any = response.text
    if response.headers.get("content-type") == "application/json" and response.content:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("details"), dict):
            body["details"].pop("correlation_id", None)
    headers = {name: response.headers.get(name) for name in COMPARED_HEADERS}
    return {"status": response.status_code, "headers": headers, "body": body}


Step = Callable[[httpx.AsyncClient, httpx.AsyncClient, Services], Any]


async def scenario(api: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every kind of answer the two routes give, in one sequence, on `/api` and `/t/default`."""
    seen: list[dict[str, Any]] = []

    async def post(who: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
        response = await who.post(path, **kwargs)
        seen.append({"request": f"POST {path}", **answer(response)})
        return response

    for prefix in ("", "/t/default"):
        send, verify = prefix + SEND, prefix + VERIFY
        await post(anonymous, send, json={"phone": PHONE})  # 401, no key
        await post(api, send, content=b"{not json", headers={"Content-Type": "application/json"})
        await post(api, send, json={"phone": PHONE, "extra": 1})
        await post(api, send, json={"phone": "not a number"})
        await post(api, send, json={"phone": PHONE})  # 501: no SMS connector yet
        await post(api, verify, json={"phone": PHONE, "verificationCode": "123456"})  # not found
        await post(api, verify, json={"phone": PHONE})  # the code is missing
    await post(api, "/t/nowhere" + SEND, json={"phone": PHONE})
    await post(api, "/t//api/verification-codes", json={"phone": PHONE})
    await post(api, SEND + "/", json={"phone": PHONE})
    for method in ("GET", "PUT", "HEAD"):
        response = await api.request(method, SEND)
        seen.append({"request": f"{method} {SEND}", **answer(response)})

    created = await api.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    assert created.status_code == 200, created.text
    limits = {"rateLimits": {"recipientLimit": 2, "failedVerificationLimit": 2}}
    assert (await api.patch("/api/tenant/settings", json=limits)).status_code == 200
    await post(api, SEND, json={"phone": PHONE})  # 204
    code = (await api.get("/api/outbox")).json()[0]["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    await post(api, VERIFY, json={"phone": PHONE, "verificationCode": wrong})  # 400 mismatch
    await post(api, VERIFY, json={"phone": PHONE, "verificationCode": wrong})  # 429 locked
    await post(api, "/t/default" + SEND, json={"phone": PHONE})  # 204, the 2nd of 2
    await post(api, SEND, json={"phone": PHONE})  # 429 with Retry-After
    return seen


async def test_the_shortcut_answers_every_request_as_fastapi_does(tmp_path: Path) -> None:
    answers = []
    for shortcut in (True, False):
        async with (
            running(tmp_path / str(shortcut), shortcut=shortcut) as (app, key),
            client(app, key) as api,
            client(app, None) as anonymous,
        ):
            answers.append(await scenario(api, anonymous))
    ours, fastapis = answers
    assert len(ours) == len(fastapis) == 25
    for mine, theirs in zip(ours, fastapis, strict=True):
        assert mine == theirs
    statuses = {seen["status"] for seen in ours}
    assert statuses >= {204, 307, 400, 401, 405, 429, 501}


async def test_an_unexpected_error_is_the_same_500_envelope_either_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = []
    for shortcut in (True, False):
        async with running(tmp_path / str(shortcut), shortcut=shortcut) as (app, key):
            services: Services = app.state.services

            async def broken(*_args: object, **_kwargs: object) -> None:
                raise RuntimeError("boom")

            monkeypatch.setattr(services.codes, "send", broken)
            async with client(app, key) as api:
                response = await api.post(SEND, json={"phone": PHONE})
            answers.append(answer(response))
            assert response.json()["details"]["correlation_id"]
    assert answers[0] == answers[1]
    assert answers[0]["status"] == 500
    assert answers[0]["body"]["code"] == "unknown"


class Recorder:
    """Stands in for FastAPI's middleware stack, counting what reaches it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.paths = app, list[str]()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(f"{scope['method']} {scope['path']}")
        await self.app(scope, receive, send)


@pytest.mark.parametrize("shortcut", [True, False])
async def test_only_the_hot_posts_skip_the_stack_and_none_once_middleware_is_added(
    tmp_path: Path, shortcut: bool
) -> None:
    async with running(tmp_path, shortcut=shortcut) as (app, key), client(app, key) as api:
        await api.get("/health")  # the stack is built on its first request
        assert app.middleware_stack is not None
        recorder = app.middleware_stack = Recorder(app.middleware_stack)
        await api.post(SEND, json={"phone": PHONE})
        await api.post("/t/default" + VERIFY, json={"phone": PHONE, "verificationCode": "1"})
        await api.get(SEND)
        await api.post("/api/phone-format", json={"phone": PHONE})
    skipped = [] if not shortcut else [f"POST {SEND}", f"POST /t/default{VERIFY}"]
    expected = [f"POST {SEND}", f"POST /t/default{VERIFY}", f"GET {SEND}", "POST /api/phone-format"]
    assert recorder.paths == [path for path in expected if path not in skipped]


def test_a_hot_route_must_take_only_the_request() -> None:
    from fastapi import APIRouter, Request, Response

    router = APIRouter()

    @router.post("/x")
    async def takes_more(request: Request, other: int = 0) -> Response:
        return Response(status_code=204)

    with pytest.raises(TypeError, match="takes only the request"):
        PhoneauthApp().add_hot_routes(router, "/api")
