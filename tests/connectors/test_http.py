from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import httpx
import pytest
from tests.servers import serve_in_thread

from phoneauth.connectors import (
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    SmsMessage,
    build_http_client,
)
from phoneauth.connectors.providers.http_sms import FACTORY as HTTP_SMS
from phoneauth.connectors.testing import captured_logs

MESSAGE = SmsMessage(to="+4915112345678", payload={"code": "864209"})


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[int]]]:
    """A real HTTP gateway on 127.0.0.1 answering after 20 ms; records the most sends in flight."""
    in_flight = [0, 0]  # current, highest

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        in_flight[0] += 1
        in_flight[1] = max(in_flight[1], in_flight[0])
        await asyncio.sleep(0.02)
        in_flight[0] -= 1
        body = b'{"id":"ok"}'
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    with serve_in_thread(app) as url:
        yield url, in_flight


async def test_a_thousand_concurrent_sends_never_hit_a_pool_timeout(
    gateway: tuple[str, list[int]],
) -> None:
    url, in_flight = gateway
    async with build_http_client(max_connections=50, allow_private_hosts=True) as client:
        connector = HTTP_SMS.build({"endpoint": url}, client)
        results = await asyncio.gather(*(connector.send(MESSAGE) for _ in range(1000)))
    assert len(results) == 1000
    assert {result.provider_message_id for result in results} == {"ok"}
    assert in_flight[1] <= 50


CLIENTS = {
    "plain httpx": httpx.AsyncClient,
    "build_http_client": partial(build_http_client, allow_private_hosts=True),
}


@pytest.mark.parametrize("make_client", CLIENTS.values(), ids=CLIENTS.keys())
async def test_the_per_send_timeout_bounds_a_slow_provider(
    slow_server: str, make_client: Callable[[], httpx.AsyncClient]
) -> None:
    async with make_client() as client:
        connector = HTTP_SMS.build({"endpoint": slow_server}, client, timeout=0.2)
        started = time.perf_counter()
        with pytest.raises(ConnectorTimeoutError) as info:
            await connector.send(MESSAGE)
    assert time.perf_counter() - started < 2
    assert info.value.code == "connector.timeout"
    assert info.value.status == 504
    assert info.value.details["provider"] == "http-sms"


@pytest.mark.parametrize("make_client", CLIENTS.values(), ids=CLIENTS.keys())
async def test_a_refused_connection_is_unreachable_and_logged_without_code(
    closed_port: int, make_client: Callable[[], httpx.AsyncClient]
) -> None:
    async with make_client() as client:
        connector = HTTP_SMS.build({"endpoint": f"http://127.0.0.1:{closed_port}"}, client)
        with captured_logs() as logs, pytest.raises(ConnectorUnreachableError) as info:
            await connector.send(MESSAGE)
    assert info.value.code == "connector.unreachable"
    assert any("sms send failed" in line for line in logs)
    assert not any("864209" in line or "12345678" in line for line in logs)
