"""The HTTP plumbing every provider shares: pooled client, send bound, timeout, error mapping.

A provider module only says how to build its request and how to read its answer
(`HttpConnector.build_request` / `parse_response`); everything that can fail on the way is mapped
here, once, to the most specific `ConnectorError`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import ssl
import time
import uuid
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

import aiohttp
import httpx

from phoneauth.connectors.base import EmailMessage, Message, SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    InvalidCertificateError,
    InvalidConfigError,
    InvalidResponseError,
    RateLimitExceededError,
)
from phoneauth.connectors.transport import check_headers, guarded_transport

DEFAULT_TIMEOUT = 10.0
"""Seconds one send may take, connection included."""

DEFAULT_MAX_CONCURRENT_SENDS = 100
"""Sends in flight per client; equal to the pool size, so no send ever waits for a connection."""

log = logging.getLogger("phoneauth.connectors")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_nonce() -> str:
    return str(uuid.uuid4())


def basic_auth(user: str, password: str) -> str:
    """The `Authorization` header value for HTTP Basic authentication."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


_slots: weakref.WeakKeyDictionary[httpx.AsyncClient, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def send_slots(client: httpx.AsyncClient) -> asyncio.Semaphore:
    """The semaphore that bounds concurrent sends through one client."""
    slots = _slots.get(client)
    if slots is None:
        slots = _slots[client] = asyncio.Semaphore(DEFAULT_MAX_CONCURRENT_SENDS)
    return slots


def build_http_client(
    *,
    max_connections: int = DEFAULT_MAX_CONCURRENT_SENDS,
    timeout: float = DEFAULT_TIMEOUT,
    allow_private_hosts: bool = False,
) -> httpx.AsyncClient:
    """The one pooled client a process shares between all its connectors.

    It runs on aiohttp's connection pool: httpcore's pool rescans every connection on each event
    and spent ~10 ms of CPU per send at 100 connections where aiohttp's spends ~0.3 ms.

    It sends only to public addresses (`connector.destination_forbidden` otherwise) unless
    `allow_private_hosts`, for local gateways and test fakes on 127.0.0.1 or a private network.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    client = httpx.AsyncClient(
        transport=guarded_transport(limits, allow_private_hosts=allow_private_hosts),
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": "phoneauth"},
        follow_redirects=False,
    )
    _slots[client] = asyncio.Semaphore(max_connections)
    return client


def response_json(response: httpx.Response) -> Any:
    """The decoded JSON body, or `InvalidResponseError` for anything else."""
    try:
        return response.json()
    except ValueError:
        raise InvalidResponseError(
            "The provider answered with a body that is not JSON.",
            http_status=response.status_code,
            content_type=response.headers.get("content-type", ""),
        ) from None


_CERTIFICATE_ERRORS = (ssl.SSLCertVerificationError, aiohttp.ClientConnectorCertificateError)


def transport_error(error: Exception) -> ConnectorError:
    """The `ConnectorError` a failed exchange with the shared client means."""
    # httpx-aiohttp maps every aiohttp connection error to ConnectTimeout: judge by the cause.
    root = error.__cause__ if isinstance(error.__cause__, aiohttp.ClientError) else error
    cause: BaseException | None = root
    while cause is not None:
        if isinstance(cause, _CERTIFICATE_ERRORS):
            return InvalidCertificateError(error=type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    if isinstance(root, httpx.TimeoutException | TimeoutError):
        return ConnectorTimeoutError(error=type(root).__name__)
    return ConnectorUnreachableError(error=type(root).__name__)


C = TypeVar("C", bound=ConnectorConfig)
M = TypeVar("M", bound=Message)


class HttpSender(ABC, Generic[C, M]):
    """Base of the connectors that make one HTTP request per message, SMS or email."""

    factory_id: ClassVar[str]
    kind: ClassVar[str] = "message"
    """Names the message in log lines: `sms sent`, `email sent`."""

    def __init__(
        self,
        config: C,
        client: httpx.AsyncClient,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Clock = utc_now,
        nonce: Callable[[], str] = new_nonce,
    ) -> None:
        self.config = config
        self.client = client
        self.timeout = timeout
        self.clock = clock
        self.nonce = nonce

    @abstractmethod
    def build_request(self, message: M) -> httpx.Request:
        """The exact request for this message: URL, headers, body, signature. No I/O."""

    @abstractmethod
    def parse_response(self, response: httpx.Response) -> SendResult:
        """The result, or the `ConnectorError` that the provider's answer means."""

    async def send(self, message: M) -> SendResult:
        """Send one message; every failure becomes a `ConnectorError`."""
        started = time.perf_counter()
        try:
            request = self._build(message)
            response = await self._exchange(request)
            result = self._parse(response)
        except ConnectorError as error:
            error.details.setdefault("provider", self.factory_id)
            log.warning(
                "%s send failed",
                self.kind,
                extra={
                    "connector": self.factory_id,
                    "to": message.masked_to,
                    "error_code": error.code,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            raise
        log.info(
            "%s sent",
            self.kind,
            extra={
                "connector": self.factory_id,
                "to": message.masked_to,
                "provider_message_id": result.provider_message_id,
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return result

    def _build(self, message: M) -> httpx.Request:
        try:
            request = self.build_request(message)
        except (UnicodeEncodeError, httpx.InvalidURL) as error:
            # A config value httpx cannot put into the request: non-ASCII text in a header, a
            # lone surrogate in the body, a URL it cannot parse. Never echo the value itself.
            raise InvalidConfigError(
                "A value of the connector's config cannot be sent: check for line breaks, "
                "control characters or non-ASCII text in header values and the endpoint.",
                error=type(error).__name__,
            ) from None
        check_headers(request)  # also when the caller's client is not the shared one
        return request

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        async with send_slots(self.client):
            try:
                async with asyncio.timeout(self.timeout):
                    response = await self.client.send(request)
                    await response.aread()
                    return response
            except TimeoutError:
                raise ConnectorTimeoutError(error="TimeoutError", timeout_s=self.timeout) from None
            except (httpx.TransportError, aiohttp.ClientError) as error:
                raise transport_error(error) from None

    def _parse(self, response: httpx.Response) -> SendResult:
        try:
            return self.parse_response(response)
        except ConnectorError:
            raise
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            # A body of the wrong shape: never echo it, a success body can contain the code.
            raise InvalidResponseError(
                "The provider's response could not be understood.",
                http_status=response.status_code,
            ) from None

    def fallback_error(
        self,
        response: httpx.Response,
        *,
        provider_code: object = None,
        provider_message: object = None,
        **extra: object,
    ) -> ConnectorError:
        """The error for an answer the provider module did not map more precisely."""
        details: dict[str, Any] = {"http_status": response.status_code, **extra}
        if provider_code is not None:
            details["provider_code"] = provider_code
        if provider_message is not None:
            details["provider_message"] = str(provider_message)
        text = f": {provider_message}" if provider_message else ""
        if response.status_code == 429:
            return RateLimitExceededError(f"The provider throttled the request{text}", **details)
        if response.status_code in (401, 403):
            return AuthorizationFailedError(
                f"The provider refused the credentials{text}", **details
            )
        if response.status_code >= 500:
            return ConnectorError(
                f"The provider failed (HTTP {response.status_code}){text}", **details
            )
        return ConnectorError(f"The provider refused the message{text}", **details)


class HttpConnector(HttpSender[C, SmsMessage], Generic[C]):
    """Base of the SMS connectors that make one HTTP request per message."""

    kind = "sms"


class HttpEmailConnector(HttpSender[C, EmailMessage], Generic[C]):
    """Base of the email connectors that make one HTTP request per message."""

    kind = "email"
