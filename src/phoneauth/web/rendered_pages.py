"""The sign-in, registration and password-reset pages, kept as rendered.

Such a page is the same for every visitor who brings the same inputs: the tenant's settings and
connectors, the country their browser's language suggests, the app they come from. Rendering
one with Jinja2 took ~115 µs of a sign-in page's ~440 µs of CPU; finding it by what it was
rendered from takes ~15 µs. The key is the whole context, as JSON: every value a page shows is
part of it, so a changed setting makes another key and never serves a page made before it.
Pages that show a person's own data (the account, an invitation) are never kept.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from jinja2 import Template

KEPT = 64
"""Pages kept per process, the least recently shown dropped first: ~45 KB each, so at most
~3 MB; a tenant's three pages in twenty languages' countries fit."""


class RenderedPages:
    """Rendered pages by template and context; one per process (the templates never change
    while it runs)."""

    def __init__(self, kept: int = KEPT) -> None:
        self.kept = kept
        self._pages: OrderedDict[str, str] = OrderedDict()

    def render(self, template: Template, context: dict[str, Any]) -> str:
        """`template` rendered with `context`, or the same page kept from an earlier render.

        Values JSON has no form for count by their `repr` (dataclasses show every field); one
        whose `repr` is its identity only makes a page that is not found again."""
        key = json.dumps([template.name, context], sort_keys=True, default=repr)
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
            return page
        page = template.render(context)
        self._pages[key] = page
        if len(self._pages) > self.kept:
            self._pages.popitem(last=False)
        return page
