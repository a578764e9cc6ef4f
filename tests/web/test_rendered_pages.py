"""Pages kept as rendered: found again by everything they were rendered from, and no more of
them than the bound."""

from __future__ import annotations

from dataclasses import dataclass

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


def test_the_same_context_gives_the_kept_page_and_another_renders_anew() -> None:
    counted, pages = Counted(), RenderedPages()
    de = {"region": "DE", "methods": Methods(password=False, code=True)}
    assert pages.render(counted.template, de) == "DE Methods(password=False, code=True)"
    assert pages.render(counted.template, dict(de)) == "DE Methods(password=False, code=True)"
    assert counted.renders == 1
    fr = {**de, "region": "FR"}
    assert pages.render(counted.template, fr).startswith("FR ")
    # A value JSON has no form for counts by everything it holds.
    both = {**de, "methods": Methods(password=True, code=True)}
    assert pages.render(counted.template, both) == "DE Methods(password=True, code=True)"
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
