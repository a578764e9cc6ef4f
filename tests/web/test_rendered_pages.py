"""Pages kept as rendered: found again by everything they were rendered from, and no more of
them than the bound."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any

from jinja2 import DictLoader, Environment

from phoneauth.web.rendered_pages import RenderedPages


@dataclass(frozen=True)
class Methods:
    password: bool
    code: bool


class Counted:
    """A template whose renders are counted (a global it calls on each render)."""

    def __init__(self) -> None:
        self.renders = 0
        environment = Environment(
            loader=DictLoader({"page.html": "{{ count() }}{{ region }} {{ methods }}"}),
            autoescape=True,
        )
        environment.globals["count"] = self._count
        self.template = environment.get_template("page.html")

    def _count(self) -> str:
        self.renders += 1
        return ""


def shown(pages: RenderedPages, counted: Counted, context: dict[str, Any]) -> str:
    return pages.render(counted.template, context).body.decode()


def test_the_same_context_gives_the_kept_page_and_another_renders_anew() -> None:
    counted, pages = Counted(), RenderedPages()
    de = {"region": "DE", "methods": Methods(password=False, code=True)}
    assert shown(pages, counted, de) == "DE Methods(password=False, code=True)"
    assert shown(pages, counted, dict(de)) == "DE Methods(password=False, code=True)"
    assert counted.renders == 1
    fr = {**de, "region": "FR"}
    assert shown(pages, counted, fr).startswith("FR ")
    # A value JSON has no form for counts by everything it holds.
    both = {**de, "methods": Methods(password=True, code=True)}
    assert shown(pages, counted, both) == "DE Methods(password=True, code=True)"
    assert counted.renders == 3


def test_the_least_recently_shown_page_goes_first_beyond_the_bound() -> None:
    counted, pages = Counted(), RenderedPages(kept=2)
    contexts = [{"region": region, "methods": None} for region in ("DE", "FR", "US")]
    pages.render(counted.template, contexts[0])
    pages.render(counted.template, contexts[1])
    pages.render(counted.template, contexts[0])  # DE shown again: FR is now the oldest
    pages.render(counted.template, contexts[2])  # beyond the bound: FR goes
    assert counted.renders == 3
    pages.render(counted.template, contexts[0])
    assert counted.renders == 3  # DE was kept
    pages.render(counted.template, contexts[1])
    assert counted.renders == 4  # FR was not


def test_a_kept_page_is_kept_compressed_too_the_same_bytes_each_time() -> None:
    counted, pages = Counted(), RenderedPages()
    context = {"region": "Curaçao " * 200, "methods": None}
    page = pages.render(counted.template, context)
    assert page.body == ("Curaçao " * 200 + " None").encode()
    assert gzip.decompress(page.gzipped) == page.body
    assert len(page.gzipped) < len(page.body) // 10
    # No time in the gzip header: a page rendered again (another process, a later start)
    # compresses to the very same bytes.
    again = RenderedPages().render(Counted().template, context)
    assert again.gzipped == page.gzipped
    assert page.gzipped[4:8] == b"\0\0\0\0"  # MTIME
