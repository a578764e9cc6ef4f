"""Console form posts must come from the console's own site: `Origin`, else `Referer`, checked.

The CSRF token already ties each form to its session; this is the second lock the browser gives
for free. A browser names the page a POST comes from in `Origin` (and in `Referer`, unless a
policy strips it). Accepted origins: the one the request itself was sent to (scheme, host and port
as the server sees them) and the origin of `PHONEAUTH_PUBLIC_URL` (behind a proxy the browser's
origin is the public one). `Origin: null` (sandboxed frames, some redirects) is foreign. A POST
with neither header is let through to the CSRF check: browsers send `Origin` on every POST, so
only non-browser clients omit both, and they carry no victim's cookies.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from phoneauth.errors import PhoneauthError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]
"""(scheme, host, port), lowercase, the default port filled in."""


class ForeignOriginError(PhoneauthError):
    """This form was sent from another site, so the console refused it. Open the console at its
    own address and send the form from there."""

    code = "console.foreign_origin"
    status = 403


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL; None for anything else (`null` included)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, an unbalanced [
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def own_origins(request: Request, public_url: str | None) -> set[Origin]:
    """Where the console's own pages are: the address of this request, and the public URL."""
    own = {
        (
            request.url.scheme,
            (request.url.hostname or "").lower(),
            request.url.port or _DEFAULT_PORTS.get(request.url.scheme, 0),
        )
    }
    public = origin_of(public_url) if public_url else None
    if public is not None:
        own.add(public)
    return own


def check_same_origin(request: Request, public_url: str | None) -> None:
    """Refuse a state-changing request whose `Origin` (or, without it, `Referer`) is foreign."""
    if request.method in SAFE_METHODS:
        return
    claimed = request.headers.get("origin")
    if claimed is None:
        claimed = request.headers.get("referer")
        if claimed is None:
            return
    origin = origin_of(claimed)
    if origin is None or origin not in own_origins(request, public_url):
        raise ForeignOriginError()
