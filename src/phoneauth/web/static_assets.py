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
of a page that must not be cached."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

from phoneauth.web.human_messages import end_user_script

STATIC_URL = "/static"
STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_DIGEST_LENGTH = 12  # hex digits of SHA-256 (48 bits): ample to tell a changed file apart


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:_DIGEST_LENGTH]


class StaticAssets(StaticFiles):
    """`StaticFiles` that knows the digest of every file it serves, read once at start; `made`
    adds files by name, content and media type, held in memory."""

    def __init__(
        self, directory: Path = STATIC_DIR, made: Mapping[str, tuple[bytes, str]] | None = None
    ) -> None:
        super().__init__(directory=directory)
        self.made = dict(made or {})
        self.digests = {
            path.name: _digest(path.read_bytes())
            for path in sorted(Path(directory).iterdir())
            if path.is_file()
        } | {name: _digest(content) for name, (content, _) in self.made.items()}

    def url(self, name: str) -> str:
        """`/static/phoneauth.css?v=<digest>`: the name a page uses for a file.

        Raises:
            KeyError: no such file (a template naming a missing file fails when rendered).
        """
        return f"{STATIC_URL}/{name}?v={self.digests[name]}"

    async def get_response(self, path: str, scope: Scope) -> Response:
        made = self.made.get(path) if scope["method"] in ("GET", "HEAD") else None
        if made is None:
            return await super().get_response(path, scope)
        content, media_type = made
        headers = {
            "ETag": f'"{self.digests[path]}"',
            "Cache-Control": self._cache_control(path, scope),
        }
        response = Response(content, media_type=media_type, headers=headers)
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    def _cache_control(self, name: str, scope: Scope) -> str:
        """Kept for a year when asked for by its digest; else asked again each time."""
        digest = self.digests.get(name)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
        return IMMUTABLE if digest is not None and asked == [digest] else REVALIDATE

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = self._cache_control(Path(full_path).name, scope)
        return response


STATIC_ASSETS = StaticAssets(made={"messages.js": (end_user_script(), "text/javascript")})
"""One per process: the files ship inside the package and never change while it runs."""
