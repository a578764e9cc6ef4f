"""OAuth2 access tokens for the SMTP connector's XOAUTH2 sign-in, obtained as nodemailer does.

With `refreshToken`, `clientId` and `clientSecret` the connector asks `accessUrl` (Google's token
endpoint by default) for an access token whenever it has none, or the one it has is about to
expire (`expires`, then the answer's `expires_in`), or the SMTP server refused it. The request is
RFC 6749's refresh_token grant (section 6) as nodemailer sends it: a form POST with the client
credentials in the body. It goes through the shared HTTP client, so the destination rules,
timeouts and bounded concurrency of HTTP connectors apply to the token endpoint too.

A new token lives in this object only: never stored, never logged, gone with the connector.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx
from pydantic import SecretStr

from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidResponseError,
    RateLimitExceededError,
)
from phoneauth.connectors.http import Clock, send_slots, transport_error, utc_now
from phoneauth.connectors.providers.smtp.config import DEFAULT_ACCESS_URL, SmtpAuth

REFRESH_MARGIN = timedelta(seconds=60)
"""A token this close to its expiry is replaced first: it could expire during the SMTP session."""

log = logging.getLogger("phoneauth.connectors")


class AccessTokens:
    """The current access token of one connector; one refresh at a time, shared by its sends."""

    def __init__(
        self, auth: SmtpAuth, client: httpx.AsyncClient | None, *, clock: Clock = utc_now
    ) -> None:
        self.auth = auth
        self.client = client
        self.clock = clock
        self._lock = asyncio.Lock()
        self._token: SecretStr | None = auth.access_token
        # nodemailer reads a missing or zero `expires` as "valid until refused".
        self._expires_at = (
            datetime.fromtimestamp(auth.expires / 1000, UTC) if auth.expires else None
        )

    @property
    def can_refresh(self) -> bool:
        return self.auth.can_refresh

    async def current(self) -> str:
        """The token to sign in with, refreshed first when there is none or it is expiring."""
        async with self._lock:
            if self._token is not None and not (self.can_refresh and self._expiring()):
                # Without refresh credentials an expired token is still tried (nodemailer too).
                return self._token.get_secret_value()
            return await self._refresh()

    async def renewed(self, refused: str) -> str:
        """A new token after the SMTP server refused `refused`.

        A send that raced this one may have replaced the refused token already; that newer token
        is used rather than refreshing twice.
        """
        async with self._lock:
            held = self._token.get_secret_value() if self._token is not None else None
            if held is not None and not secrets.compare_digest(held, refused):
                return held
            return await self._refresh()

    def _expiring(self) -> bool:
        return self._expires_at is not None and self.clock() >= self._expires_at - REFRESH_MARGIN

    async def _refresh(self) -> str:
        if self.client is None:
            raise ConnectorError("The SMTP connector needs an HTTP client to refresh its token.")
        auth = self.auth
        form = {  # nodemailer's order and keys
            "client_id": auth.client_id or "",
            "client_secret": _reveal(auth.client_secret),
            "refresh_token": _reveal(auth.refresh_token),
            "grant_type": "refresh_token",
        }
        try:
            async with send_slots(self.client):
                response = await self.client.post(
                    auth.access_url or DEFAULT_ACCESS_URL,
                    data=form,
                    headers={"Accept": "application/json"},
                )
        except (httpx.TransportError, aiohttp.ClientError) as error:
            raise transport_error(error) from None
        token, lifetime = read_token_response(response)
        self._token = SecretStr(token)
        self._expires_at = self.clock() + timedelta(seconds=lifetime) if lifetime else None
        log.info(
            "smtp oauth2 access token refreshed",
            extra={"connector": "simple-mail-transfer-protocol", "expires_in": lifetime},
        )
        return token


def _reveal(secret: SecretStr | None) -> str:
    return secret.get_secret_value() if secret is not None else ""


def read_token_response(response: httpx.Response) -> tuple[str, int | None]:
    """The access token and its lifetime in seconds, or the error the answer means.

    RFC 6749 section 5.1 (success) and 5.2 (`error`, `error_description`). A refused grant or
    client is `connector.authorization_failed`, as a refused SMTP password is.
    """
    try:
        data: Any = response.json()
    except ValueError:
        data = None
    body = data if isinstance(data, dict) else {}
    token = body.get("access_token")
    if response.is_success and isinstance(token, str) and token and "error" not in body:
        return token, _lifetime(body.get("expires_in"))
    status = response.status_code
    error, description = body.get("error"), body.get("error_description")
    details: dict[str, Any] = {"http_status": status}
    if error is not None:
        details["provider_code"] = str(error)[:100]
    if description is not None:
        details["provider_message"] = str(description)[:200]
    said = f": {str(error)[:100]}" if error is not None else ""
    if status == 429:
        raise RateLimitExceededError(
            f"The OAuth2 token endpoint throttled the refresh{said}.", **details
        )
    if status >= 500:
        raise ConnectorError(f"The OAuth2 token endpoint failed (HTTP {status}){said}.", **details)
    if error is not None or status in (400, 401, 403):
        raise AuthorizationFailedError(
            f"The OAuth2 token endpoint refused the refresh token or the client credentials{said}.",
            **details,
        )
    raise InvalidResponseError(
        "The OAuth2 token endpoint answered without an access token.", http_status=status
    )


def _lifetime(value: object) -> int | None:
    """`expires_in` in seconds (some servers send it as a string); absent or odd: unknown."""
    try:
        seconds = int(str(value))
    except ValueError:
        return None
    return seconds if seconds > 0 else None
