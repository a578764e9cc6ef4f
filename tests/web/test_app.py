from __future__ import annotations

import gc
import sqlite3
import weakref
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.servers import serve_in_thread

from phoneauth.settings import Settings
from phoneauth.web.app import api_routers, create_app, in_matching_order, page_routers
from phoneauth.web.experience import ROUTERS as EXPERIENCE_ROUTERS
from phoneauth.web.management import CODE_ROUTERS
from phoneauth.web.oidc import router as oidc_router
from phoneauth.web.pages import router as pages_router


def test_first_start_creates_the_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with serve_in_thread(create_app(settings)) as url:
        # httpx waits 5 s by default, which a busy machine missed here; 60 s still ends a hang.
        health = local_http.get(f"{url}/health", timeout=60)
    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    database = tmp_path / "data" / "phoneauth.db"
    assert database.exists()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_paths_answer_in_the_error_envelope(tmp_path: Path) -> None:
    with serve_in_thread(create_app(Settings(data_dir=tmp_path))) as url:
        response = local_http.get(f"{url}/no/such/page", timeout=60)
    assert response.status_code == 404
    assert response.json() == {"code": "entity.not_found", "message": "Not Found", "details": {}}


def test_settings_come_from_phoneauth_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PHONEAUTH_PORT", "4010")
    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.port == 4010
    assert (
        settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/phoneauth.db"
    )


async def _serve_a_little(settings: Settings) -> weakref.ref[FastAPI]:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/health")).status_code == 200
        assert (await client.post("/api/phone-format", json={})).status_code == 400
    return weakref.ref(app)


async def test_an_app_is_freed_once_dropped(settings: Settings) -> None:
    """No endpoint may close over the app: FastAPI caches keyed by endpoint function live as
    long as the process, and kept every app a test process built (2.2 GB per test worker once,
    through a docs page defined as a closure)."""
    dropped = await _serve_a_little(settings)
    gc.collect()
    assert dropped() is None


def test_the_routes_of_a_sign_in_are_tried_before_the_management_api_and_tenant_copies() -> None:
    """FastAPI walks the routes in order, about 1 µs each: at the end of the table a sign-in
    page cost ~250 µs of matching before its own work."""
    order = in_matching_order([*api_routers(), *page_routers()])
    sign_in = [*CODE_ROUTERS, *EXPERIENCE_ROUTERS, pages_router, oidc_router]
    assert [mount.router for mount in order[: len(sign_in)]] == sign_in
    assert not any(mount.per_tenant for mount in order[: len(sign_in)])
    tenant_copies = [position for position, mount in enumerate(order) if mount.per_tenant]
    assert tenant_copies == list(range(len(order) - len(tenant_copies), len(order)))
    assert [mount.router for mount in order if mount.per_tenant][: len(sign_in)] == sign_in
