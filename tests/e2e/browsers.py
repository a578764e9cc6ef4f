"""Debian's Chromium, driven by Playwright, for the tests that look at pages as people do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LAPTOP = {"width": 1280, "height": 800}
PHONE_SCREEN = {"width": 390, "height": 844}


@contextmanager
def laptop_page(browser: Browser, locale: str = "en-US") -> Iterator[Page]:
    """A fresh browser profile (no cookies) on a laptop-sized window."""
    context = browser.new_context(locale=locale, viewport=LAPTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Kept in tests/artifacts/ (not committed) to look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if full_page:
        page.evaluate("window.scrollTo(0, 0)")  # a sticky header belongs at the top
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
