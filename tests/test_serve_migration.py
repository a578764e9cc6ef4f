"""`phoneauth serve` on SQLite migrates a schema that is behind in a process of its own, so the
serving process never loads Alembic; an unreadable database stops it with a message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from phoneauth.settings import Settings
from phoneauth.storage.schema_version import SCHEMA_HEAD
from phoneauth.web import serving

ROOT = Path(__file__).resolve().parent.parent

# Run in a fresh interpreter: this test process imports Alembic for its fixtures.
PROBE = """
import json, sqlite3, sys
from phoneauth.settings import Settings
from phoneauth.web import serving
settings = Settings()
serving.migrate_apart(settings)
row = sqlite3.connect(settings.data_dir / "phoneauth.db").execute(
    "SELECT version_num FROM alembic_version"
).fetchone()
print(json.dumps({"alembic": "alembic" in sys.modules, "revision": row[0]}))
"""


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")}
    return {**env, "PHONEAUTH_DATA_DIR": str(data_dir)}


def test_a_new_sqlite_file_is_migrated_by_another_process(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "Database schema at revision" in done.stdout  # the child's own report
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"alembic": False, "revision": SCHEMA_HEAD}


def test_a_current_schema_starts_no_process(
    tmp_path: Path, migrated_sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(migrated_sqlite_file, tmp_path / "phoneauth.db")
    started: list[object] = []
    monkeypatch.setattr(serving.subprocess, "run", lambda *a, **kw: started.append(a))
    serving.migrate_apart(Settings(data_dir=tmp_path))
    assert started == []


def test_an_unreadable_database_stops_serve_with_a_message_not_a_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "phoneauth.db").write_bytes(b"not a database " * 100)
    done = subprocess.run(
        [sys.executable, "-m", "phoneauth", "serve", "--port", "1"],
        cwd=ROOT,
        env={**_env(tmp_path), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "server.migration_failed: the database could not be migrated: file is not a" in output
    assert "Could not bring the database schema up to date" in output
    assert "Traceback" not in output
