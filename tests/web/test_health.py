"""`/health` names each dependency; 503 when one is down, in plain JSON, never a traceback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from phoneauth import __version__
from phoneauth.domain.sms_routing import CircuitSettings
from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.web.app import create_app
from phoneauth.wiring import Services


@asynccontextmanager
async def started(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
        ) as client,
    ):
        yield app, client


NO_CIRCUITS = {"closed": 0, "open": 0, "halfOpen": 0}


def settings_for(tmp_path: Path, redis_url: str | None = None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", secret_key=SecretStr("test-secret-key"), redis_url=redis_url
    )


async def test_all_up_without_redis(tmp_path: Path) -> None:
    async with started(settings_for(tmp_path)) as (_app, client):
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "not configured",
        "smsCircuits": NO_CIRCUITS,
        "version": __version__,
    }


async def test_all_up_with_redis(tmp_path: Path) -> None:
    async with started(settings_for(tmp_path, "redis://127.0.0.1:6379")) as (_app, client):
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["redis"] == "ok"


async def test_database_down_is_503_naming_it(tmp_path: Path, closed_port: int) -> None:
    async with started(settings_for(tmp_path)) as (app, client):
        services: Services = app.state.services
        working = services.database
        services.database = open_database(
            f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/test"
        )
        try:
            response = await client.get("/health")
        finally:
            await services.database.dispose()
            services.database = working
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unavailable",
        "redis": "not configured",
        "smsCircuits": NO_CIRCUITS,
        "version": __version__,
    }


async def test_redis_down_is_200_degraded_naming_it(tmp_path: Path, closed_port: int) -> None:
    """Rate limits are counted in process memory meanwhile: the instance still serves, so it
    stays in rotation (a 503 would take every instance out at once), and says it is degraded."""
    settings = settings_for(tmp_path, f"redis://127.0.0.1:{closed_port}")
    async with started(settings) as (_app, client):
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["redis"] == "degraded"
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize("failure", ["false", "raises"])
async def test_a_failed_counter_check_is_degraded_naming_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """How `/health` reads `RateLimits.check()`: False or an error both mean degraded."""

    async def check() -> bool:
        if failure == "raises":
            raise ConnectionError("refused")
        return False

    async with started(settings_for(tmp_path, "redis://127.0.0.1:6379")) as (app, client):
        services: Services = app.state.services
        monkeypatch.setattr(services.codes.rate_limits, "check", check, raising=False)
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "degraded",
        "smsCircuits": NO_CIRCUITS,
        "version": __version__,
    }


async def test_an_open_circuit_is_counted_and_health_stays_200(tmp_path: Path) -> None:
    """A provider that keeps failing is the provider's trouble: the instance still serves.
    Only counts are shown (the answer is public: no tenant, no connector named)."""
    async with started(settings_for(tmp_path)) as (app, client):
        services: Services = app.state.services
        breakers = services.delivery_routing.router.breakers
        tripped = breakers.get("a-tenant", "a-connector", CircuitSettings(failure_threshold=1))
        tripped.failed()
        breakers.get("a-tenant", "another", CircuitSettings())
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["smsCircuits"] == {"closed": 1, "open": 1, "halfOpen": 0}
