from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from tests.servers import serve_in_thread

from phoneauth.settings import Settings
from phoneauth.web.app import create_app


def test_first_start_creates_the_sqlite_file_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with serve_in_thread(create_app(settings)) as url:
        # httpx waits 5 s by default, which a busy machine missed here; 60 s still ends a hang.
        health = httpx.get(f"{url}/health", timeout=60)
    assert health.status_code == 200
    assert health.json()["database"] == "ok"
    database = tmp_path / "data" / "phoneauth.db"
    assert database.exists()
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_unknown_paths_answer_in_the_error_envelope(tmp_path: Path) -> None:
    with serve_in_thread(create_app(Settings(data_dir=tmp_path))) as url:
        response = httpx.get(f"{url}/no/such/page", timeout=60)
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
