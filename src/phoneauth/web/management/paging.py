"""Logto's paging `Link` header (`koa-pagination`): first, prev, next and last pages."""

from __future__ import annotations

from starlette.datastructures import URL


def link_header(url: URL, page: int, page_size: int, total: int) -> str:
    """`<...?page=1&page_size=20>; rel="first", ...`; prev and next only where they exist."""
    last = max(1, -(-total // page_size))
    links = [("first", 1)]
    if page > 1:
        links.append(("prev", min(page - 1, last)))
    if page < last:
        links.append(("next", page + 1))
    links.append(("last", last))
    parts = []
    for rel, number in links:
        target = url.include_query_params(page=number, page_size=page_size)
        parts.append(f'<{target.path}?{target.query}>; rel="{rel}"')
    return ", ".join(parts)
