from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from phoneauth.cli import app as cli
from phoneauth.settings import Settings
from phoneauth.storage.migrate import head_revision
from phoneauth.web.app import create_app


async def test_first_start_prints_one_working_key_and_later_starts_print_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path)
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        printed = capsys.readouterr().out
        key = next(line.strip() for line in printed.splitlines() if line.strip().startswith("pa_"))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first), base_url="http://t"
        ) as client:
            ok = await client.get("/api/tenant", headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200
    again = create_app(settings)
    async with again.router.lifespan_context(again):
        assert "pa_" not in capsys.readouterr().out
    assert (tmp_path / "secret.key").exists()
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"


def test_cli_migrate_and_create_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    migrated = runner.invoke(cli, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert f"revision {head_revision()}" in migrated.output
    created = runner.invoke(cli, ["admin", "create-key", "--name", "ops"])
    assert created.exit_code == 0, created.output
    key = created.output.strip()
    assert key.startswith("pa_")
    with sqlite3.connect(tmp_path / "phoneauth.db") as db:
        stored = [
            row[0] for row in db.execute("select key_hash from admin_keys where name = 'ops'")
        ]
    assert len(stored) == 1
    assert key not in stored[0]
    unknown = runner.invoke(cli, ["admin", "create-key", "--tenant", "ghost"])
    assert unknown.exit_code == 1
    assert "tenant.not_found" in unknown.output
