"""The shared client's own checks, seen by any connector (a third-party one that calls the client
directly included): unsafe header values and non-public destinations never leave the process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.servers import serve_in_thread

from phoneauth.connectors import (
    DestinationForbiddenError,
    InvalidConfigError,
    SmsMessage,
    build_http_client,
)
from phoneauth.connectors.providers.http_sms import FACTORY as HTTP_SMS

MESSAGE = SmsMessage(to="+4915112345678", payload={"code": "864209"})


@pytest.fixture
def internal() -> Iterator[tuple[str, list[str]]]:
    """A service on 127.0.0.1 that no connector may reach by default; records every request."""
    paths: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"internal"})

    with serve_in_thread(app) as url:
        yield url, paths


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_connector_calling_the_client_directly_cannot_reach_loopback(
    internal: tuple[str, list[str]], host: str
) -> None:
    url, paths = internal
    port = httpx.URL(url).port
    async with build_http_client() as client:
        with pytest.raises(DestinationForbiddenError) as info:
            await client.post(f"http://{host}:{port}/admin")
    assert info.value.code == "connector.destination_forbidden"
    assert info.value.status == 400
    assert paths == []


async def test_the_http_sms_connector_gets_the_coded_error_too(
    internal: tuple[str, list[str]],
) -> None:
    url, paths = internal
    async with build_http_client() as client:
        # Built without the save-time check, as a config stored before it would be.
        connector = HTTP_SMS.build({"endpoint": url.replace("127.0.0.1", "localhost")}, client)
        with pytest.raises(DestinationForbiddenError):
            await connector.send(MESSAGE)
    assert paths == []


async def test_with_private_hosts_allowed_the_same_service_is_reached(
    internal: tuple[str, list[str]],
) -> None:
    url, paths = internal
    async with build_http_client(allow_private_hosts=True) as client:
        answer = await client.post(url.replace("127.0.0.1", "localhost") + "/send")
    assert answer.status_code == 200
    assert paths == ["/send"]


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\x00b", "a\x7fb"])
async def test_a_header_value_with_a_line_break_or_control_character_never_leaves(
    internal: tuple[str, list[str]], value: str
) -> None:
    url, paths = internal
    async with build_http_client(allow_private_hosts=True) as client:
        with pytest.raises(InvalidConfigError) as info:
            await client.post(url, headers={"X-Token": value})
    assert info.value.details == {"header": "X-Token"}
    assert paths == []
