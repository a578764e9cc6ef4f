"""Which redirect URIs an application may list: Logto's web and mobile URIs, nothing that only a
loose match would need."""

from __future__ import annotations

import pytest

from phoneauth.domain.redirect_uris import redirect_uri_problem

ACCEPTED = [
    "https://app.example.com/callback",
    "http://localhost:3000/callback",
    "http://127.0.0.1:8080/cb?tenant=a",
    "http://[::1]:3000/cb",
    "HTTPS://App.Example.com/Callback",
    "com.example.app://callback",
    "io.logto.sample:/callback",  # RFC 8252 §7.1 private-use scheme, one slash
    "com.example.app2://oauth/redirect",
]
REFUSED = [
    "",
    "/callback",
    "app.example.com/callback",
    "https://app.example.com/cb#fragment",
    "https://app.example.com/cb#",
    "https://*.example.com/cb",
    "https://app.example.com/cb?next=*",
    "https:///cb",
    "https:/app.example.com/cb",
    "https://app.example.com:port/cb",
    "https://user@app.example.com/cb",
    "https://app.example.com/a/../cb",
    "https://app.example.com/a/%2E%2E/cb",
    "https://app.example.com/./cb",
    "https://app.example.com/c b",
    "https://app.example.com/cb\n",
    "javascript:alert(1)",
    "data:text/html,hi",
    "file:///etc/passwd",
    "myapp://callback",  # not a reverse domain name
    "com.example.app:",
    "com.example.app_2://cb",  # no _ in a URI scheme (RFC 3986), so `new URL` refuses it too
    "https://app.example.com/" + "a" * 2048,
]


@pytest.mark.parametrize("uri", ACCEPTED)
def test_web_and_mobile_uris_are_accepted(uri: str) -> None:
    assert redirect_uri_problem(uri) is None


@pytest.mark.parametrize("uri", REFUSED)
def test_uris_an_exact_match_cannot_use_are_refused(uri: str) -> None:
    problem = redirect_uri_problem(uri)
    assert problem is not None
    assert problem[0].islower()  # reads after "Line 2, “…”, "
