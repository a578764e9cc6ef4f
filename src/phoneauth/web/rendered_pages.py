"""The sign-in, registration and password-reset pages, kept as rendered.

Such a page is the same for every visitor who brings the same inputs: the tenant's settings and
connectors, the country their browser's language suggests, the app they come from. Rendering
one with Jinja2 took ~115 µs of a sign-in page's ~440 µs of CPU; finding it by what it was
rendered from takes ~15 µs. The key is the whole context, as JSON: every value a page shows is
part of it, so a changed setting makes another key and never serves a page made before it.
Pages that show a person's own data (the account, an invitation) are never kept.

A kept page is also kept gzip-compressed, made once when it is rendered: a browser that takes
gzip gets the sign-in page's 28 KB as about 7, and no request pays for compressing. Only such
pages are compressed: being the same for every visitor, they hold no secret (no token, nothing
of a person's own), and BREACH-style attacks read secrets out of compressed sizes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from jinja2 import Template

from phoneauth.web.content_coding import gzipped

KEPT = 64
"""Pages kept per process, the least recently shown dropped first: ~35 KB each with the
compressed copy, so at most ~2.3 MB; a tenant's three pages in twenty languages' countries fit."""


@dataclass(frozen=True, slots=True)
class KeptPage:
    body: bytes
    """The page in UTF-8."""
    gzipped: bytes
    """The same, gzip-compressed (no time in its header: the same page, the same bytes)."""


class RenderedPages:
    """Rendered pages by template and context; one per process (the templates never change
    while it runs)."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._pages: OrderedDict[str, KeptPage] = OrderedDict()

    def render(self, template: Template, context: dict[str, Any]) -> KeptPage:
        """`template` rendered with `context`, or the same page kept from an earlier render.

        Values JSON has no form for count by their `repr` (dataclasses show every field); one
        whose `repr` is its identity only makes a page that is not found again."""
        key = json.dumps([template.name, context], sort_keys=True, default=repr)
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
            return page
        body = template.render(context).encode()
        page = KeptPage(body, gzipped(body))
        self._pages[key] = page
        if len(self._pages) > self.kept:
            self._pages.popitem(last=False)
        return page
