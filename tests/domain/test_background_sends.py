"""Background sends held until the answer is written, and what happens when it never is."""

from __future__ import annotations

import asyncio

import pytest

from phoneauth.domain import background_sends
from phoneauth.domain.background_sends import BackgroundSends


class Sends:
    def __init__(self) -> None:
        self.ran: list[str] = []

    async def send(self, name: str) -> None:
        self.ran.append(name)


async def test_a_send_outside_a_hold_starts_at_once() -> None:
    sends, background = Sends(), BackgroundSends()
    background.start(sends.send("now"))
    await asyncio.sleep(0)
    assert sends.ran == ["now"]


async def test_a_held_send_waits_for_its_release() -> None:
    sends, background = Sends(), BackgroundSends()
    with background.held() as held:
        background.start(sends.send("later"))
    assert held
    await asyncio.sleep(0.01)
    assert sends.ran == []
    await held.release()
    await background.wait()
    assert sends.ran == ["later"]
    assert not held
    assert background.holding == set()


async def test_a_hold_that_fails_starts_its_sends_on_the_way_out() -> None:
    """The code is stored before the send is held: its SMS goes, whatever the answer."""
    sends, background = Sends(), BackgroundSends()

    def failing_answer() -> None:
        with background.held():
            background.start(sends.send("stored"))
            raise RuntimeError("the answer failed")

    with pytest.raises(RuntimeError):
        failing_answer()
    await background.wait()
    assert sends.ran == ["stored"]


async def test_a_send_nobody_releases_still_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background_sends, "RELEASE_AT_THE_LATEST_S", 0.01)
    sends, background = Sends(), BackgroundSends()
    with background.held():
        background.start(sends.send("unreleased"))
    await asyncio.sleep(0.1)
    assert sends.ran == ["unreleased"]
    assert background.holding == set()


async def test_waiting_and_draining_start_what_is_still_held() -> None:
    sends, background = Sends(), BackgroundSends()
    with background.held():
        background.start(sends.send("first"))
    await background.wait()
    with background.held():
        background.start(sends.send("second"))
    await background.drain(grace=1.0)
    assert sends.ran == ["first", "second"]


async def test_a_hold_ends_with_its_block() -> None:
    sends, background = Sends(), BackgroundSends()
    with background.held():
        pass
    background.start(sends.send("after"))
    await asyncio.sleep(0)
    assert sends.ran == ["after"]
    assert background.holding == set()
