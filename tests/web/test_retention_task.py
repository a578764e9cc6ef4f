from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from phoneauth.settings import Settings
from phoneauth.web.app import create_app


def _tasks(name: str) -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == name]


@pytest.mark.parametrize(
    "job",
    [
        "phoneauth-retention",  # finished codes and old message-log entries, hourly
        "phoneauth-delivery-polling",  # providers asked for the statuses of sent messages
        "phoneauth-interaction-cleanup",  # expired sign-in interactions, once a minute
    ],
)
async def test_the_lifespan_runs_each_background_job_and_stops_it(
    settings: Settings, job: str
) -> None:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        [task] = _tasks(job)
        assert not task.done()
    assert task.cancelled()
    assert _tasks(job) == []
