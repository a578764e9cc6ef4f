"""Which addresses an application may list as redirect and post-logout redirect URIs.

Logto's rule (`validateRedirectUrl` in `@logto/core-kit`): a web URI (`http` or `https`) or a
mobile URI whose scheme is a reverse domain name (`com.example.app://callback`). phoneauth
matches redirect URIs exactly, so it refuses what Logto accepts only to match loosely or what
no exact match should ever need: wildcards, fragments (RFC 6749 §3.1.2), `.` and `..` path
segments, and user names or passwords in the authority.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MAX_LENGTH = 2048
_WEB_SCHEMES = frozenset({"http", "https"})
_MOBILE_SCHEME = re.compile(r"[a-z][\d_a-z]*(\.[\d_a-z]+)+")
"""Logto's `mobileUriSchemeProtocolRegEx`, on the lower-cased scheme as `new URL` gives it."""
_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f]")


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be a redirect URI, in a short sentence; None when it can."""
    if not uri or len(uri) > MAX_LENGTH or _UNPRINTABLE.search(uri):
        return f"must be an absolute URI of at most {MAX_LENGTH} characters without spaces"
    if "#" in uri:
        return "must not have a fragment (#...)"
    if "*" in uri:
        return "must not hold wildcards: redirect URIs are matched exactly"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return "is not a valid URI"
    scheme = parts.scheme.lower()
    if scheme in _WEB_SCHEMES:
        if not parts.hostname or not uri.lower().startswith(f"{scheme}://"):
            return "must name a host, e.g. https://app.example.com/callback"
    elif not _MOBILE_SCHEME.fullmatch(scheme):
        return (
            "must be an http(s) address or use an app's own reverse-domain scheme, "
            "e.g. com.example.app://callback"
        )
    elif not uri[len(scheme) + 1 :]:
        return "must have something after the scheme, e.g. com.example.app://callback"
    if "@" in parts.netloc:
        return "must not hold a user name or password"
    if any(segment in {".", ".."} for segment in _decoded_segments(parts.path)):
        return "must not hold . or .. path segments"
    return None


def _decoded_segments(path: str) -> list[str]:
    return [segment.lower().replace("%2e", ".") for segment in path.split("/")]
