"""The app as users run it: uvicorn on a random 127.0.0.1 port, reached over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send
from tests.servers import serve_in_thread

from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.web.services import Services


class LoopRecorder:
    """Passes every ASGI call to the app and remembers the event loop uvicorn runs it on."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class Deployment:
    url: str
    app: FastAPI
    admin_key: str

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}


@contextmanager
def deploy(settings: Settings) -> Iterator[Deployment]:
    """Serve a new app with `settings` until the block ends; a global admin key is ready."""
    app = create_app(settings)
    recorder = LoopRecorder(app)
    with serve_in_thread(recorder) as url:
        assert recorder.loop is not None  # the lifespan ran through the recorder
        # The app's own service makes the key, on the app's loop (its database pool lives there).
        services: Services = app.state.services
        created = services.admin_keys.create("end-to-end tests")
        _, key = asyncio.run_coroutine_threadsafe(created, recorder.loop).result(timeout=30)
        yield Deployment(url=url, app=app, admin_key=key)


@pytest.fixture
def deployment(settings: Settings) -> Iterator[Deployment]:
    """The app served on the test's database: an SQLite file, then PostgreSQL."""
    with deploy(settings) as deployed:
        yield deployed
