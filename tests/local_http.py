"""httpx clients for the servers and fakes the tests start on 127.0.0.1, over plain HTTP.

One TLS context for all of them, made once: httpx builds one per client otherwise, loading every
trusted certificate (~25 ms of CPU), and clients made per test, per fixture and per poll of a
starting server spent about a tenth of the suite's CPU on contexts no request ever used. Tests
that speak TLS, or check a client that the product builds, make their own.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

_UNUSED_TLS = ssl.create_default_context()


def client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=_UNUSED_TLS, **options)


def async_client(**options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=_UNUSED_TLS, **options)


def get(url: str, **options: Any) -> httpx.Response:
    with client() as http:
        return http.get(url, **options)


def post(url: str, **options: Any) -> httpx.Response:
    with client() as http:
        return http.post(url, **options)
