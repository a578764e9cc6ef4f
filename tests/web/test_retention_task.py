from __future__ import annotations

import asyncio

from fastapi import FastAPI

from phoneauth.settings import Settings
from phoneauth.web.app import create_app


def _retention_tasks() -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == "phoneauth-retention"]


async def test_the_lifespan_runs_retention_in_the_background_and_stops_it(
    settings: Settings,
) -> None:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        [task] = _retention_tasks()
        assert not task.done()
    assert task.cancelled()
    assert _retention_tasks() == []


async def test_the_lifespan_polls_delivery_statuses_in_the_background_and_stops(
    settings: Settings,
) -> None:
    def polling() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "phoneauth-delivery-polling"]

    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        [task] = polling()
        assert not task.done()
    assert task.cancelled()
    assert polling() == []


async def test_the_lifespan_deletes_expired_interactions_in_the_background_and_stops(
    settings: Settings,
) -> None:
    def cleanup() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "phoneauth-interaction-cleanup"]

    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        [task] = cleanup()
        assert not task.done()
    assert task.cancelled()
    assert cleanup() == []
