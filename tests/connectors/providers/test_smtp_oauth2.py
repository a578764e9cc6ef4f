"""The SMTP connector's OAuth2 sign-in (XOAUTH2) with tokens it refreshes itself, as nodemailer
does: a real token endpoint and a real SMTP server on 127.0.0.1, the exact refresh request, the
in-memory cache, expiry, one refresh and retry on 535, and refusals as coded errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.smtp_servers import TokenEndpoint, smtp_server, token_endpoint

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorUnreachableError,
    DestinationForbiddenError,
    EmailMessage,
    InvalidConfigError,
    UsageType,
    build_http_client,
    get_factory,
)
from phoneauth.connectors.config import secret_fields
from phoneauth.connectors.templates import default_email_templates

SMTP = get_factory("simple-mail-transfer-protocol")
USER = "mailer@example.com"
CLIENT_ID = "client-1.apps.example"
CLIENT_SECRET = "client-secret-5e1f"
REFRESH_TOKEN = "1//refresh-token-77aa"
# nodemailer's form, in its order: the client credentials in the body (RFC 6749 section 6).
REFRESH_FORM = (
    b"client_id=client-1.apps.example&client_secret=client-secret-5e1f"
    b"&refresh_token=1%2F%2Frefresh-token-77aa&grant_type=refresh_token"
)
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shared_endpoint() -> Iterator[TokenEndpoint]:
    with token_endpoint() as endpoint:
        yield endpoint


@pytest.fixture
def endpoint(shared_endpoint: TokenEndpoint) -> TokenEndpoint:
    shared_endpoint.reset()
    return shared_endpoint


def _config(port: int, access_url: str, **auth: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "auth": {
            "type": "OAuth2",
            "user": USER,
            "clientId": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "refreshToken": REFRESH_TOKEN,
            "accessUrl": access_url,
            **auth,
        },
        "fromEmail": "no-reply@example.com",
        "templates": default_email_templates(),
    }


def _message(code: str) -> EmailMessage:
    return EmailMessage("jane@example.com", UsageType.SIGN_IN, {"code": code})


async def test_a_refreshed_token_signs_in_and_is_reused(
    endpoint: TokenEndpoint, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_server(oauth_tokens={USER: "fresh-1"}) as server:
        async with build_http_client(allow_private_hosts=True) as client:
            connector = SMTP.build_email(
                _config(server.port, endpoint.url), client, allow_private_hosts=True
            )
            await connector.send(_message("401122"))
            await connector.send(_message("401123"))
    assert endpoint.requests == [("application/x-www-form-urlencoded", REFRESH_FORM)]
    assert server.xoauth2 == [(USER, "fresh-1"), (USER, "fresh-1")]
    assert [received.login for received in server.received] == [USER, USER]
    logged = "\n".join(
        f"{record.getMessage()} {vars(record)}"
        for record in caplog.records
        if record.name != "mail.log"  # the test server's own debug log
    )
    assert "smtp oauth2 access token refreshed" in logged
    for private in (CLIENT_SECRET, REFRESH_TOKEN, "fresh-1", USER, "401122", "jane@"):
        assert private not in logged


async def test_an_expiring_token_is_refreshed_before_the_session(endpoint: TokenEndpoint) -> None:
    now = [NOW]
    expired = int((NOW - timedelta(seconds=1)).timestamp() * 1000)
    tokens = {USER: "fresh-1"}
    with smtp_server(oauth_tokens=tokens) as server:
        async with build_http_client(allow_private_hosts=True) as client:
            config = _config(server.port, endpoint.url, accessToken="old", expires=expired)
            connector = SMTP.build_email(
                config, client, allow_private_hosts=True, clock=lambda: now[0]
            )
            await connector.send(_message("1"))
            now[0] += timedelta(seconds=3000)  # well within fresh-1's 3599 s: reused
            await connector.send(_message("2"))
            now[0] += timedelta(seconds=560)  # 39 s left: replaced before it can lapse mid-send
            tokens[USER] = "fresh-2"
            await connector.send(_message("3"))
    assert len(endpoint.requests) == 2
    assert server.xoauth2 == [(USER, "fresh-1"), (USER, "fresh-1"), (USER, "fresh-2")]


async def test_a_refused_token_is_refreshed_once_and_retried_once(
    endpoint: TokenEndpoint,
) -> None:
    tokens = {USER: "fresh-1"}
    with smtp_server(oauth_tokens=tokens) as server:
        async with build_http_client(allow_private_hosts=True) as client:
            config = _config(server.port, endpoint.url, accessToken="stale")
            connector = SMTP.build_email(config, client, allow_private_hosts=True)
            await connector.send(_message("1"))
            assert server.xoauth2 == [(USER, "stale"), (USER, "fresh-1")]
            assert len(server.received) == 1

            tokens[USER] = "revoked-everything"  # the server now refuses every token it gets
            with pytest.raises(AuthorizationFailedError) as refused:
                await connector.send(_message("2"))
    assert refused.value.details["provider_code"] == 535
    assert server.xoauth2[2:] == [(USER, "fresh-1"), (USER, "fresh-2")]  # one retry, no loop
    assert len(endpoint.requests) == 2
    assert len(server.received) == 1


async def test_refused_or_unreachable_refreshes_are_coded_errors(
    endpoint: TokenEndpoint, closed_port: int
) -> None:
    endpoint.replies.append(
        (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    )
    with smtp_server(oauth_tokens={USER: "fresh-1"}) as server:
        async with build_http_client(allow_private_hosts=True) as client:
            connector = SMTP.build_email(
                _config(server.port, endpoint.url), client, allow_private_hosts=True
            )
            with pytest.raises(AuthorizationFailedError) as refused:
                await connector.send(_message("1"))
            unreachable = _config(server.port, f"http://127.0.0.1:{closed_port}/token")
            connector = SMTP.build_email(unreachable, client, allow_private_hosts=True)
            with pytest.raises(ConnectorUnreachableError):
                await connector.send(_message("2"))
        # The shared client's destination rule covers the token endpoint as any HTTP endpoint.
        async with build_http_client() as public_only:
            connector = SMTP.build_email(
                _config(server.port, endpoint.url), public_only, allow_private_hosts=True
            )
            with pytest.raises(DestinationForbiddenError):
                await connector.send(_message("3"))
    error = refused.value.to_dict()
    assert error["code"] == "connector.authorization_failed"
    assert error["details"]["provider_code"] == "invalid_grant"
    assert error["details"]["http_status"] == 400
    for secret in (CLIENT_SECRET, REFRESH_TOKEN):
        assert secret not in repr(error)
    assert server.xoauth2 == []  # no SMTP sign-in without a token
    assert server.received == []


def test_oauth2_needs_a_user_and_a_token_or_the_means_to_get_one() -> None:
    url = "https://oauth2.example.com/token"
    SMTP.parse_config(_config(587, url))  # the refresh trio alone
    SMTP.parse_config(
        _config(587, url) | {"auth": {"type": "oauth2", "user": USER, "accessToken": "t"}}
    )
    for auth, named in (
        ({"type": "OAuth2", "user": USER, "refreshToken": "r", "clientId": "c"}, "clientSecret"),
        ({"type": "OAuth2", "refreshToken": "r", "clientId": "c", "clientSecret": "s"}, "user"),
        ({"type": "OAuth2", "user": USER, "privateKey": "k", "serviceClient": "1"}, "accessToken"),
    ):
        with pytest.raises(InvalidConfigError) as invalid:
            SMTP.parse_config(_config(587, url) | {"auth": auth})
        assert named in repr(invalid.value.details["errors"])
    for access_url in ("ftp://oauth2.example.com/token", "http://10.0.0.7/token"):
        public_host = _config(587, access_url) | {"host": "smtp.example.com"}
        with pytest.raises(InvalidConfigError) as invalid:
            SMTP.parse_config(public_host, allow_private_hosts=False)
        assert invalid.value.details["errors"][0]["field"] == "auth.accessUrl"
    assert {"auth.clientSecret", "auth.refreshToken", "auth.accessToken"} <= set(
        secret_fields(SMTP.config_model)
    )
