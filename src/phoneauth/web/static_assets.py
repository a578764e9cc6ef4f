"""The pages' scripts, styles and icon under `/static`, cached by browsers for as long as they
stay the same.

Each page names its files with a digest of their content (`static_url`), so a browser may keep
a file it fetched under that name for a year without asking again (`immutable`): a changed file
gets a new name, whatever the release number says. Asked for under any other name (no digest,
or an earlier file's), a file is served with `no-cache`: the browser asks each time and gets
`304 Not Modified` while it is the same. Before, every page view asked again for its five or six
files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_URL = "/static"
STATIC_DIR = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_DIGEST_LENGTH = 12  # hex digits of SHA-256 (48 bits): ample to tell a changed file apart


class StaticAssets(StaticFiles):
    """`StaticFiles` that knows the digest of every file it serves, read once at start."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        super().__init__(directory=directory)
        self.digests = {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:_DIGEST_LENGTH]
            for path in sorted(Path(directory).iterdir())
            if path.is_file()
        }

    def url(self, name: str) -> str:
        """`/static/phoneauth.css?v=<digest>`: the name a page uses for a file.

        Raises:
            KeyError: no such file (a template naming a missing file fails when rendered).
        """
        return f"{STATIC_URL}/{name}?v={self.digests[name]}"

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        digest = self.digests.get(Path(full_path).name)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
        fresh = digest is not None and asked == [digest]
        response.headers["Cache-Control"] = IMMUTABLE if fresh else REVALIDATE
        return response


STATIC_ASSETS = StaticAssets()
"""One per process: the files ship inside the package and never change while it runs."""
