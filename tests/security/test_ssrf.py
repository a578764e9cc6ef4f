"""SSRF: a tenant's admin points a connector's endpoint at the server's own network.

The attack run pointed `endpoint` at 127.0.0.1, localhost, 0.0.0.0 and private ranges: a test send
read up to 200 characters of the internal service's answer back, and the error kinds told open
ports from closed ones. Now, with `PHONEAUTH_CONNECTOR_ALLOW_PRIVATE_HOSTS` off (the default), a
literal private host is refused when the config is tested, created or updated, and a host name is
checked on every send against the addresses it resolves to. The internal service below listens on
127.0.0.1 and must never receive a request.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tests import local_http
from tests.e2e.conftest import Deployment, serve_app
from tests.security.connector_rows import store_unchecked
from tests.servers import serve_in_thread

from phoneauth.connectors import ConnectorType, get_factory, list_factories
from phoneauth.settings import Settings
from phoneauth.web.app import create_app

PHONE = "+4915112340002"
SECRET = "INTERNAL-ONLY-7f3a9c"
LITERALS = {
    "127.0.0.1": "127.0.0.1:{port}",
    "localhost": "localhost:{port}",
    "0.0.0.0": "0.0.0.0:{port}",
    "[::1]": "[::1]:{port}",
    "IPv4-mapped [::ffff:127.0.0.1]": "[::ffff:127.0.0.1]:{port}",
    "10.x": "10.0.0.1:{port}",
    "192.168.x": "192.168.1.1:{port}",
    "cloud metadata 169.254.169.254": "169.254.169.254",
}
WITH_ENDPOINT = [
    factory.id for factory in list_factories() if "endpoint" in factory.config_model.model_fields
]


@dataclass
class Internal:
    """A service only the server's own network should reach; it answers with a secret."""

    url: str = ""
    port: int = 0
    paths: list[str] = field(default_factory=list)
    answer: Response = field(
        default_factory=lambda: PlainTextResponse(f"{SECRET} root:x:0:0", status_code=500)
    )

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._answer, methods=["GET", "POST"])])

    async def _answer(self, request: Request) -> Response:
        self.paths.append(request.url.path)
        return self.answer


@pytest.fixture
def internal() -> Iterator[Internal]:
    service = Internal()
    with serve_in_thread(service.asgi()) as url:
        service.url, service.port = url, httpx.URL(url).port or 80
        yield service


@pytest.fixture(scope="module")
def strict_app(module_settings: Settings) -> FastAPI:
    """The app as shipped: connectors may reach public addresses only (one per module: its routes
    are built once, see `module_app`)."""
    return create_app(module_settings.model_copy(update={"connector_allow_private_hosts": False}))


@pytest.fixture
def strict_deployment(settings: Settings, strict_app: FastAPI) -> Iterator[Deployment]:
    """`strict_app` served on the test's database (emptied by `settings`), lifespan anew."""
    with serve_app(strict_app) as deployed:
        yield deployed


@pytest.fixture
async def client(strict_deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=strict_deployment.url, headers=strict_deployment.auth, timeout=30
    ) as client:
        yield client


@pytest.fixture
def loopback_name() -> str:
    """A host name (not `localhost`) that /etc/hosts maps to loopback: resolved without DNS."""
    for line in Path("/etc/hosts").read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2 or not fields[0].startswith("127."):
            continue
        for name in fields[1:]:
            if "localhost" not in name and socket.gethostbyname(name).startswith("127."):
                return name
    # This machine's own name resolves to loopback on Debian (127.0.1.1) even when /etc/hosts
    # does not list it under 127.x.
    own = socket.gethostname()
    if "localhost" not in own and socket.gethostbyname(own).startswith("127."):
        return own
    pytest.fail("this test needs a host name other than localhost that resolves to 127.x")


def endpoint(internal: Internal, host: str) -> str:
    return "http://" + host.format(port=internal.port) + "/send"


def config_for(factory_id: str, url: str) -> dict[str, Any]:
    return {**get_factory(factory_id).sample_config, "endpoint": url}


def refused_endpoint(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "connector.invalid_config"
    assert [problem["field"] for problem in body["details"]["errors"]] == ["endpoint"]


def forbidden(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "connector.destination_forbidden"


@pytest.mark.parametrize("host", LITERALS.values(), ids=LITERALS.keys())
async def test_a_test_send_to_a_private_literal_host_is_refused_before_any_connection(
    client: httpx.AsyncClient, internal: Internal, host: str
) -> None:
    url = endpoint(internal, host)
    response = await client.post(
        "/api/connectors/http-sms/test", json={"phone": PHONE, "config": {"endpoint": url}}
    )
    refused_endpoint(response)
    assert SECRET not in response.text
    assert internal.paths == []


@pytest.mark.parametrize("factory_id", WITH_ENDPOINT)
async def test_every_provider_with_an_endpoint_override_is_guarded(
    client: httpx.AsyncClient, internal: Internal, factory_id: str
) -> None:
    config = config_for(factory_id, endpoint(internal, "127.0.0.1:{port}"))
    # An Email factory is tested with an address, an SMS factory with a phone (Logto's shapes).
    email = get_factory(factory_id).type is ConnectorType.EMAIL
    recipient = {"email": "jane@example.com"} if email else {"phone": PHONE}
    response = await client.post(
        f"/api/connectors/{factory_id}/test", json={**recipient, "config": config}
    )
    refused_endpoint(response)
    created = await client.post(
        "/api/connectors", json={"connectorId": factory_id, "config": config}
    )
    refused_endpoint(created)
    assert internal.paths == []


@pytest.mark.parametrize("host", LITERALS.values(), ids=LITERALS.keys())
async def test_create_and_update_refuse_a_private_literal_host(
    client: httpx.AsyncClient, internal: Internal, host: str
) -> None:
    url = endpoint(internal, host)
    created = await client.post(
        "/api/connectors", json={"connectorId": "http-sms", "config": {"endpoint": url}}
    )
    refused_endpoint(created)
    public = {"endpoint": "https://sms-gateway.example.com/send"}
    saved = await client.post("/api/connectors", json={"connectorId": "http-sms", "config": public})
    assert saved.status_code == 200, saved.text
    updated = await client.patch(
        f"/api/connectors/{saved.json()['id']}", json={"config": {"endpoint": url}}
    )
    refused_endpoint(updated)
    assert internal.paths == []


async def test_a_name_that_resolves_to_loopback_is_refused_when_sending(
    client: httpx.AsyncClient, internal: Internal, loopback_name: str
) -> None:
    url = endpoint(internal, loopback_name + ":{port}")
    tested = await client.post(
        "/api/connectors/http-sms/test", json={"phone": PHONE, "config": {"endpoint": url}}
    )
    forbidden(tested)
    # The name is no literal, so it saves; every send checks what it resolves to.
    saved = await client.post(
        "/api/connectors", json={"connectorId": "http-sms", "config": {"endpoint": url}}
    )
    assert saved.status_code == 200, saved.text
    sent = await client.post("/api/verification-codes", json={"phone": PHONE})
    forbidden(sent)
    assert SECRET not in tested.text + sent.text
    assert internal.paths == []


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "[::1]:{port}"])
async def test_an_endpoint_stored_before_the_check_is_refused_when_sending(
    client: httpx.AsyncClient, settings: Settings, internal: Internal, host: str
) -> None:
    await store_unchecked(settings, "http-sms", {"endpoint": endpoint(internal, host)})
    sent = await client.post("/api/verification-codes", json={"phone": PHONE})
    forbidden(sent)
    assert SECRET not in sent.text
    assert internal.paths == []


async def test_open_and_closed_ports_answer_alike(
    client: httpx.AsyncClient, internal: Internal, closed_port: int, loopback_name: str
) -> None:
    """No port scan through error kinds: an open and a closed port get the same answer."""
    answers = []
    for host in ("127.0.0.1", loopback_name):
        for port in (internal.port, closed_port):
            config = {"endpoint": f"http://{host}:{port}/send"}
            response = await client.post(
                "/api/connectors/http-sms/test", json={"phone": PHONE, "config": config}
            )
            answers.append((host, response.status_code, response.json()))
    assert answers[0][1:] == answers[1][1:]
    assert answers[2][1:] == answers[3][1:]
    assert internal.paths == []


@pytest.mark.parametrize(
    "answer",
    [
        PlainTextResponse(f"{SECRET} root:x:0:0", status_code=500),
        HTMLResponse(f"<html><body>{SECRET} admin panel</body></html>", status_code=401),
        JSONResponse({"token": SECRET, "detail": "internal"}, status_code=400),
    ],
    ids=["text", "html", "json without message"],
)
async def test_an_internal_answer_is_never_read_back_even_where_private_hosts_are_allowed(
    deployment: Deployment, internal: Internal, answer: Response
) -> None:
    """An operator may allow a gateway on the private network; its raw answers still never reach
    the caller: only a gateway's JSON `message` does (the HTTP SMS connector's documented error)."""
    internal.answer = answer
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        response = await client.post(
            "/api/connectors/http-sms/test",
            json={"phone": PHONE, "config": {"endpoint": internal.url + "/send"}},
        )
    assert internal.paths == ["/send"]  # it was reached: the operator allowed it
    body = response.json()
    assert body["code"] in ("connector.general", "connector.authorization_failed")
    assert body["details"]["http_status"] == answer.status_code
    assert SECRET not in response.text
