"""`/favicon.ico`: browsers ask for it on every site whatever the page links, so it answers the
brand mark (an SVG, which browsers take at this path too) instead of a 404 in every log."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from phoneauth.web.static_assets import STATIC_DIR

FAVICON = STATIC_DIR / "favicon.svg"

favicon_router = APIRouter(include_in_schema=False)


@favicon_router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(
        FAVICON.read_bytes(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
