"""HEAD is answered wherever GET is: the same status and headers, no body."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from starlette.types import Message, Receive, Scope, Send
from tests import local_http
from tests.servers import serve_in_thread

from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.web.head_requests import HeadAsGetMiddleware

SAME_HEADERS = ("content-type", "content-length", "cache-control", "content-security-policy")


@pytest.mark.parametrize(
    "path", ["/health", "/sign-in", "/api/connectors", "/api/.well-known/sign-in-exp"]
)
async def test_head_answers_what_get_does_without_the_body(
    api: httpx.AsyncClient, path: str
) -> None:
    got = await api.get(path)
    head = await api.head(path)
    assert got.status_code == head.status_code == 200
    assert got.content
    assert head.content == b""
    for name in SAME_HEADERS:
        assert head.headers.get(name) == got.headers.get(name), name


async def test_head_keeps_the_answer_of_a_get_that_is_refused(api: httpx.AsyncClient) -> None:
    missing = await api.head("/api/connectors/no-such-connector")
    unauthenticated = await api.head("/api/connectors", headers={"Authorization": ""})
    assert missing.status_code == 404
    assert unauthenticated.status_code == 401
    assert missing.content == unauthenticated.content == b""


async def test_other_methods_pass_as_they_came() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["method"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"body"})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    for method in ("POST", "HEAD"):
        scope: Scope = {"type": "http", "method": method, "path": "/", "headers": []}
        await HeadAsGetMiddleware(app)(scope, receive, send)
        assert scope["method"] == method  # the server's own scope keeps what came
    assert seen == ["POST", "GET"]
    assert [message.get("body") for message in sent[1::2]] == [b"body", b""]


def test_a_real_server_answers_head_and_keeps_the_connection(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret_key=SecretStr("test-secret-key"))
    with serve_in_thread(create_app(settings)) as url, local_http.client(base_url=url) as client:
        head = client.head("/health")
        page = client.head("/sign-in")
        # The same keep-alive connection, still in step after two answers without a body.
        shown = client.get("/sign-in")
        after = client.get("/health")
    assert (head.status_code, page.status_code, after.status_code) == (200, 200, 200)
    assert head.content == page.content == b""
    assert int(page.headers["content-length"]) == len(shown.content) > 0
    assert after.json()["status"] == "ok"


async def test_head_is_counted_under_its_route(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, secret_key=SecretStr("test-secret-key"), metrics_token=SecretStr("m")
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://phoneauth.test") as client,
    ):
        await client.head("/health")
        exposition = await client.get("/metrics", headers={"Authorization": "Bearer m"})
    assert 'method="HEAD",route="/health",status="200"' in exposition.text
