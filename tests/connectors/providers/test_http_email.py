"""Logto's `http-email` connector: the exact request, sent to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from tests.servers import serve_in_thread

from phoneauth.connectors import (
    AuthorizationFailedError,
    DestinationForbiddenError,
    EmailMessage,
    InvalidConfigError,
    UsageType,
    build_http_client,
    get_factory,
)
from phoneauth.connectors.providers.http_sms import SIGNATURE_HEADER, verify_signature

HTTP_EMAIL = get_factory("http-email")
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def mail_service() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A real email service on 127.0.0.1 that keeps each request's method, path, headers, body."""
    seen: list[dict[str, Any]] = []
    service = FastAPI()

    @service.post("/send")
    async def send(request: Request) -> JSONResponse:
        seen.append(
            {
                "path": request.url.path,
                "headers": dict(request.headers),
                "body": await request.body(),
            }
        )
        if request.headers.get("authorization") != "Bearer mail-t0k":
            return JSONResponse({"message": "bad token"}, status_code=401)
        return JSONResponse({"id": f"mail-{len(seen)}"}, status_code=202)

    with serve_in_thread(service) as url:
        yield url, seen


async def test_posts_logtos_json_to_a_real_server(
    mail_service: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = mail_service
    config = {"endpoint": f"{url}/send", "authorization": "Bearer mail-t0k"}
    message = EmailMessage(
        to="Jane@Example.com",
        usage_type=UsageType.SIGN_IN,
        payload={"code": "123456", "locale": "de"},
        ip="203.0.113.7",
    )
    async with build_http_client(allow_private_hosts=True) as client:
        result = await HTTP_EMAIL.build_email(config, client).send(message)
    assert result.provider_message_id == "mail-1"
    [request] = seen
    assert request["path"] == "/send"
    assert request["headers"]["authorization"] == "Bearer mail-t0k"
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"] == (
        b'{"to":"Jane@example.com","type":"SignIn","payload":{"code":"123456","locale":"de"},'
        b'"ip":"203.0.113.7"}'
    )
    assert SIGNATURE_HEADER.lower() not in request["headers"]


async def test_signed_requests_and_refusals(
    mail_service: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = mail_service
    config = {
        "endpoint": f"{url}/send",
        "authorization": "Bearer mail-t0k",
        "signingSecret": "sign-me",
    }
    message = EmailMessage(to="jane@example.com", payload={"code": "000000"})
    async with build_http_client(allow_private_hosts=True) as client:
        await HTTP_EMAIL.build_email(config, client, clock=lambda: NOW).send(message)
        header = seen[-1]["headers"][SIGNATURE_HEADER.lower()]
        assert verify_signature("sign-me", header, seen[-1]["body"], now=int(NOW.timestamp()))
        assert (
            seen[-1]["body"]
            == b'{"to":"jane@example.com","type":"Generic","payload":{"code":"000000"}}'
        )
        with pytest.raises(AuthorizationFailedError) as refused:
            await HTTP_EMAIL.build_email(config | {"authorization": "Bearer no"}, client).send(
                message
            )
    assert refused.value.details["provider_message"] == "bad token"
    assert "jane@" not in repr(refused.value.to_dict())


async def test_the_destination_guard_and_header_rules_apply() -> None:
    with pytest.raises(InvalidConfigError):
        HTTP_EMAIL.parse_config({"endpoint": "http://127.0.0.1:9/send"}, allow_private_hosts=False)
    with pytest.raises(InvalidConfigError):
        HTTP_EMAIL.parse_config(
            {"endpoint": "https://mail.example.com", "authorization": "Bearer a\r\nX-Evil: 1"}
        )
    async with build_http_client() as client:  # the shared client refuses it on send as well
        connector = HTTP_EMAIL.build_email({"endpoint": "http://127.0.0.1:9/send"}, client)
        with pytest.raises(DestinationForbiddenError):
            await connector.send(EmailMessage(to="jane@example.com", payload={"code": "1"}))
