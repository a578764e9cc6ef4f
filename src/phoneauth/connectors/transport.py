"""The shared client's transport: refuses what must never leave the process, then sends on aiohttp.

Every connector that uses the shared client gets these checks, third-party ones included: header
values with line breaks or control characters (header injection) and destinations that are not
public (SSRF, see `destinations`). Both become coded `ConnectorError`s, never a crash.
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Callable

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from phoneauth.connectors.destinations import (
    ForbiddenDestination,
    PublicOnlyResolver,
    is_private_literal,
    looks_like_address,
)
from phoneauth.connectors.errors import DestinationForbiddenError, InvalidConfigError

# RFC 9110 field-value: visible characters, space, tab and obs-text; never CR, LF, NUL or DEL.
_UNSAFE_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def check_headers(request: httpx.Request) -> None:
    """Raise `InvalidConfigError` when a header could split the request or be refused on the way."""
    for name, value in request.headers.raw:
        if not _TOKEN.fullmatch(name):
            raise InvalidConfigError("The request has a header name that HTTP does not allow.")
        if _UNSAFE_VALUE.search(value):
            header = name.decode("ascii")
            raise InvalidConfigError(
                f"The {header} header would hold a line break or control character; "
                "check the connector's config.",
                header=header,
            )


def forbidden_destination(host: str) -> DestinationForbiddenError:
    return DestinationForbiddenError(
        f"The connector's endpoint {host} is not a public address (loopback, private, "
        "link-local or reserved); connectors send only to public addresses unless the operator "
        "sets PHONEAUTH_CONNECTOR_ALLOW_PRIVATE_HOSTS.",
        host=host,
    )


def _refused_by_resolver(error: BaseException) -> ForbiddenDestination | None:
    """The resolver's refusal, wherever the HTTP stack wrapped it."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ForbiddenDestination):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


class GuardedTransport(httpx.AsyncBaseTransport):
    """Checks each request, then hands it to the real transport."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, allow_private_hosts: bool) -> None:
        self.inner = inner
        self.allow_private_hosts = allow_private_hosts

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_headers(request)
        host = request.url.raw_host.decode("ascii", "replace")
        # An IP literal is connected to without a lookup, so the resolver never sees it.
        if not self.allow_private_hosts and looks_like_address(host) and is_private_literal(host):
            raise forbidden_destination(host)
        try:
            return await self.inner.handle_async_request(request)
        except httpx.TransportError as error:
            refused = _refused_by_resolver(error)
            if refused is None:
                raise
            raise forbidden_destination(refused.host) from None

    async def aclose(self) -> None:
        await self.inner.aclose()


def _session_factory(
    limits: httpx.Limits, ssl_context: ssl.SSLContext, *, allow_private_hosts: bool
) -> Callable[[], aiohttp.ClientSession]:
    """aiohttp's session as httpx-aiohttp builds it, with the public-only resolver added.

    httpx-aiohttp calls it on the first request: aiohttp needs the running event loop.
    """

    def session() -> aiohttp.ClientSession:
        resolver = None if allow_private_hosts else PublicOnlyResolver(aiohttp.DefaultResolver())
        connector = aiohttp.TCPConnector(
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
            ssl=ssl_context,
            resolver=resolver,
        )
        return aiohttp.ClientSession(connector=connector)

    return session


@functools.cache
def _verifying_ssl_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle), built once per process: loading the
    bundle costs ~50 ms of CPU, and a process that builds several clients (each test's app)
    verifies the same way in each. A context is safe to share between connections and loops."""
    return httpx.create_ssl_context()


def guarded_transport(limits: httpx.Limits, *, allow_private_hosts: bool) -> GuardedTransport:
    """The shared client's transport: the checks above, then aiohttp's connection pool."""
    ssl_context = _verifying_ssl_context()
    session = _session_factory(limits, ssl_context, allow_private_hosts=allow_private_hosts)
    inner = AiohttpTransport(verify=ssl_context, limits=limits, client=session)
    return GuardedTransport(inner, allow_private_hosts=allow_private_hosts)
