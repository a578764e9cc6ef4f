"""The application factory: one shared HTTP client, connector registry and database engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from phoneauth import __version__
from phoneauth.connectors import build_http_client, load_registry
from phoneauth.settings import Settings
from phoneauth.storage.engine import create_engine, ping
from phoneauth.web.errors import install_error_handlers


def create_app(settings: Settings) -> FastAPI:
    """A new app; tests build one each, with their own settings."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        await ping(engine)
        app.state.engine = engine
        app.state.http_client = build_http_client(timeout=settings.http_timeout)
        try:
            yield
        finally:
            await app.state.http_client.aclose()
            await engine.dispose()

    app = FastAPI(title="phoneauth", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.registry = load_registry()
    install_error_handlers(app)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        await ping(app.state.engine)
        return {"status": "ok", "database": "ok", "version": __version__}

    return app
