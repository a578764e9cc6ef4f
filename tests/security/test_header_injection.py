"""D3: connector config values that end up in HTTP headers are checked, on a real server.

The attack run sent `POST /api/connectors/http-sms/test` with an `authorization` holding CR/LF, NUL
or non-Latin-1 text and got `500 unknown`. Now every header-bound field refuses such values with
`400 connector.invalid_config` naming the field, on test, create and update; a value stored before
the check fails its send with a coded error; and the gateway never receives a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests import local_http
from tests.e2e.conftest import Deployment
from tests.security.connector_rows import store_unchecked
from tests.servers import serve_in_thread

from phoneauth.connectors import get_factory
from phoneauth.settings import Settings

PHONE = "+4915112340001"
UNSAFE = {
    "CRLF header injection": "Bearer X\r\nX-Injected: 1",
    "LF": "Bearer X\nX-Injected: 1",
    "NUL": "Bearer X\x00",
    "escape": "Bearer \x1b[31mX",
    "tab": "Bearer\tX",
    "Latin-1": "Bearer é",
    "non-Latin-1": "Bearer é中",
}
# Providers that put a config value into `Authorization` as is (Basic auth is base64, so safe).
KEY_IDS = {
    "tencent": "tencent-short-message-service",
    "aliyun": "aliyun-short-message-service",
}


@dataclass
class Gateway:
    """A real HTTP SMS gateway on 127.0.0.1 that records the headers of every request."""

    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._answer, methods=["POST"])])

    async def _answer(self, request: Request) -> JSONResponse:
        self.requests.append(dict(request.headers))
        return JSONResponse({"id": "gw-1"})


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    fake = Gateway()
    with serve_in_thread(fake.asgi()) as url:
        fake.url = url + "/send"
        yield fake


@pytest.fixture
async def client(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=30
    ) as client:
        yield client


def refused_fields(response: httpx.Response) -> list[str]:
    """The fields a `400 connector.invalid_config` names."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "connector.invalid_config"
    return [problem["field"] for problem in body["details"]["errors"]]


def http_sms(gateway: Gateway, authorization: str) -> dict[str, str]:
    return {"endpoint": gateway.url, "authorization": authorization}


@pytest.mark.parametrize("value", UNSAFE.values(), ids=UNSAFE.keys())
async def test_a_test_send_with_an_unsafe_authorization_is_refused_naming_the_field(
    client: httpx.AsyncClient, gateway: Gateway, value: str
) -> None:
    response = await client.post(
        "/api/connectors/http-sms/test",
        json={"phone": PHONE, "config": http_sms(gateway, value)},
    )
    assert refused_fields(response) == ["authorization"]
    assert "X-Injected" not in response.text  # the value is never echoed
    assert gateway.requests == []


@pytest.mark.parametrize("value", UNSAFE.values(), ids=UNSAFE.keys())
async def test_create_and_update_refuse_an_unsafe_authorization(
    client: httpx.AsyncClient, gateway: Gateway, value: str
) -> None:
    created = await client.post(
        "/api/connectors", json={"connectorId": "http-sms", "config": http_sms(gateway, value)}
    )
    assert refused_fields(created) == ["authorization"]
    good = await client.post(
        "/api/connectors",
        json={"connectorId": "http-sms", "config": http_sms(gateway, "Bearer good-token")},
    )
    assert good.status_code == 200, good.text
    updated = await client.patch(
        f"/api/connectors/{good.json()['id']}", json={"config": http_sms(gateway, value)}
    )
    assert refused_fields(updated) == ["authorization"]
    # The saved connector kept its good header and still sends with it.
    sent = await client.post("/api/verification-codes", json={"phone": PHONE})
    assert sent.status_code == 204, sent.text
    assert [request["authorization"] for request in gateway.requests] == ["Bearer good-token"]
    assert all("x-injected" not in request for request in gateway.requests)


@pytest.mark.parametrize("factory_id", KEY_IDS.values(), ids=KEY_IDS.keys())
async def test_key_ids_that_providers_put_into_authorization_are_checked_too(
    client: httpx.AsyncClient, gateway: Gateway, factory_id: str
) -> None:
    config = dict(get_factory(factory_id).sample_config)
    config |= {"endpoint": gateway.url, "accessKeyId": "AKID\r\nX-Injected: 1"}
    response = await client.post(
        f"/api/connectors/{factory_id}/test", json={"phone": PHONE, "config": config}
    )
    assert refused_fields(response) == ["accessKeyId"]
    created = await client.post(
        "/api/connectors", json={"connectorId": factory_id, "config": config}
    )
    assert refused_fields(created) == ["accessKeyId"]
    assert gateway.requests == []


@pytest.mark.parametrize("value", list(UNSAFE.values())[:3], ids=list(UNSAFE)[:3])
async def test_an_unsafe_value_stored_before_the_check_fails_the_send_with_a_code(
    client: httpx.AsyncClient, settings: Settings, gateway: Gateway, value: str
) -> None:
    await store_unchecked(settings, "http-sms", http_sms(gateway, value))
    sent = await client.post("/api/verification-codes", json={"phone": PHONE})
    assert sent.status_code == 400, sent.text
    assert sent.json()["code"] == "connector.invalid_config"
    assert "X-Injected" not in sent.text
    assert gateway.requests == []
