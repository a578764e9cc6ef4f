"""Which `Origin` and `Referer` a console form post may carry: the rules on their own."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from phoneauth.web.console.origin import ForeignOriginError, check_same_origin, origin_of


def request(method: str = "POST", host: str = "phoneauth.test", **headers: str) -> Request:
    """A request as the server sees it: `host` from the Host header, over plain HTTP."""
    raw = [(b"host", host.encode())]
    raw += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "server": ("127.0.0.1", 3001),
        "path": "/console/tenants",
        "query_string": b"",
        "headers": raw,
    }
    return Request(scope)


def test_origins_are_scheme_host_and_port() -> None:
    assert origin_of("http://phoneauth.test") == ("http", "phoneauth.test", 80)
    assert origin_of("HTTPS://ID.Example.com/console/x?y=1") == ("https", "id.example.com", 443)
    assert origin_of("http://[::1]:3001") == ("http", "::1", 3001)
    for nothing in (
        "null",
        "",
        "phoneauth.test",
        "ftp://phoneauth.test",
        "http://[::1",
        "http://h:x",
    ):
        assert origin_of(nothing) is None, nothing


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://phoneauth.test"},
        {"origin": "http://PhoneAuth.test:80"},
        {"referer": "http://phoneauth.test/console/tenants"},
        {"origin": "http://phoneauth.test", "referer": "https://elsewhere.example/"},
        {},  # neither: a non-browser client, left to the CSRF token
    ],
)
def test_the_consoles_own_site_may_post(headers: dict[str, str]) -> None:
    check_same_origin(request(**headers), None)


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://elsewhere.example"},
        {"origin": "null"},
        {"origin": "https://phoneauth.test"},  # another scheme is another site
        {"origin": "http://phoneauth.test:8080"},
        {"origin": "http://evil.phoneauth.test"},
        {"origin": "http://phoneauth.test.evil.example"},
        {"origin": ""},
        {"referer": "https://elsewhere.example/phoneauth.test"},
        {"origin": "https://elsewhere.example", "referer": "http://phoneauth.test/console"},
    ],
)
def test_another_site_may_not_post(headers: dict[str, str]) -> None:
    with pytest.raises(ForeignOriginError) as refused:
        check_same_origin(request(**headers), None)
    assert refused.value.status == 403
    assert "another site" in refused.value.message


def test_reading_pages_is_not_checked() -> None:
    for method in ("GET", "HEAD", "OPTIONS"):
        check_same_origin(request(method, origin="https://elsewhere.example"), None)
    for method in ("PUT", "PATCH", "DELETE"):
        with pytest.raises(ForeignOriginError):
            check_same_origin(request(method, origin="https://elsewhere.example"), None)


def test_behind_a_proxy_the_public_url_is_the_consoles_site() -> None:
    proxied = request(host="127.0.0.1:3001", origin="https://id.example.com")
    with pytest.raises(ForeignOriginError):
        check_same_origin(proxied, None)
    check_same_origin(proxied, "https://id.example.com/auth")
    check_same_origin(request(host="127.0.0.1:3001", origin="http://127.0.0.1:3001"), None)
    with pytest.raises(ForeignOriginError):
        check_same_origin(proxied, "https://other.example.com")
