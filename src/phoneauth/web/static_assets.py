"""The pages' scripts, styles and icon under `/static`, cached by browsers for as long as they
stay the same.

Each page names its files with a digest of their content (`static_url`), so a browser may keep
a file it fetched under that name for a year without asking again (`immutable`): a changed file
gets a new name, whatever the release number says. Asked for under any other name (no digest,
or an earlier file's), a file is served with `no-cache`: the browser asks each time and gets
`304 Not Modified` while it is the same. Before, every page view asked again for its five or six
files.

A file may also be made at start rather than read from the folder (`made`): the end users'
sentences (`messages.js`), which every page embedded before, 16 KB of its 44, on every view
of a page that must not be cached.

Every file is read once at start and held in memory (about 100 KB), each beside its
gzip-compressed copy where that is smaller by a tenth or more, which a browser that takes gzip
gets: a first sign-in fetches 65 KB of scripts, styles and icon as 17 KB. The files hold no
secret, so compressing them tells nobody anything (see `rendered_pages`)."""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from phoneauth.web.content_coding import accepts_gzip, gzipped
from phoneauth.web.human_messages import end_user_script

STATIC_URL = "/static"
STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_DIGEST_LENGTH = 12  # hex digits of SHA-256 (48 bits): ample to tell a changed file apart


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:_DIGEST_LENGTH]


@dataclass(frozen=True, slots=True)
class _Asset:
    content: bytes
    media_type: str
    digest: str
    gzipped: bytes | None
    """gzip-compressed (no time in its header), where that saves a tenth or more."""


def _asset(content: bytes, media_type: str) -> _Asset:
    packed = gzipped(content)
    smaller = len(packed) * 10 <= len(content) * 9
    return _Asset(content, media_type, _digest(content), packed if smaller else None)


class StaticAssets(StaticFiles):
    """`StaticFiles` whose files, and their digests, are read once at start and served from
    memory; `made` adds files by name, content and media type. Anything else (an unknown name,
    a method other than GET and HEAD) gets `StaticFiles`' own answer."""

    def __init__(
        self, directory: Path = STATIC_DIR, made: Mapping[str, tuple[bytes, str]] | None = None
    ) -> None:
        super().__init__(directory=directory)
        read = {
            path.name: _asset(path.read_bytes(), mimetypes.guess_type(path.name)[0] or "text/plain")
            for path in sorted(Path(directory).iterdir())
            if path.is_file()
        }
        made_here = {name: _asset(content, kind) for name, (content, kind) in (made or {}).items()}
        self.assets = read | made_here
        self.digests = {name: asset.digest for name, asset in self.assets.items()}

    def url(self, name: str) -> str:
        """`/static/phoneauth.css?v=<digest>`: the name a page uses for a file.

        Raises:
            KeyError: no such file (a template naming a missing file fails when rendered).
        """
        return f"{STATIC_URL}/{name}?v={self.digests[name]}"

    async def get_response(self, path: str, scope: Scope) -> Response:
        asset = self.assets.get(path) if scope["method"] in ("GET", "HEAD") else None
        if asset is None:
            return await super().get_response(path, scope)
        asked = Headers(scope=scope)
        headers = {"Cache-Control": self._cache_control(path, scope), "ETag": f'"{asset.digest}"'}
        content = asset.content
        if asset.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
            if accepts_gzip(asked.get("accept-encoding")):
                # Another representation, so another entity tag (RFC 9110 §8.8.3).
                headers |= {"Content-Encoding": "gzip", "ETag": f'"{asset.digest}-gzip"'}
                content = asset.gzipped
        response = Response(content, media_type=asset.media_type, headers=headers)
        if self.is_not_modified(response.headers, asked):
            return NotModifiedResponse(response.headers)
        return response

    def _cache_control(self, name: str, scope: Scope) -> str:
        """Kept for a year when asked for by its digest; else asked again each time."""
        digest = self.digests.get(name)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
        return IMMUTABLE if digest is not None and asked == [digest] else REVALIDATE


STATIC_ASSETS = StaticAssets(made={"messages.js": (end_user_script(), "text/javascript")})
"""One per process: the files ship inside the package and never change while it runs."""
