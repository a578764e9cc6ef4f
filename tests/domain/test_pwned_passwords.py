"""The breached-password lookup: only a 5-digit SHA-1 prefix leaves; an outage is no breach."""

from __future__ import annotations

import hashlib

import httpx
from tests import local_http

from phoneauth.domain.pwned_passwords import PwnedPasswords


async def test_only_the_prefix_is_sent_and_the_suffix_is_matched() -> None:
    digest = hashlib.sha1(b"hunter2").hexdigest().upper()  # noqa: S324 - HIBP's scheme
    seen: list[httpx.Request] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=f"00000AAAA:1\r\n{digest[5:]}:17\r\n")

    async with httpx.AsyncClient(transport=httpx.MockTransport(service)) as client:
        lookup = PwnedPasswords(client, "https://hibp.test/range/")
        assert await lookup("hunter2") is True
        assert await lookup("something else entirely") is False
    assert str(seen[0].url) == f"https://hibp.test/range/{digest[:5]}"
    assert b"hunter2" not in seen[0].url.raw_path


async def test_an_unreachable_service_counts_as_not_breached(closed_port: int) -> None:
    async with local_http.async_client(timeout=5) as client:
        lookup = PwnedPasswords(client, f"http://127.0.0.1:{closed_port}/range/")
        assert await lookup("hunter2") is False
