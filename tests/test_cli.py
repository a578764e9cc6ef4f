from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.servers import serve_in_thread
from typer.testing import CliRunner

from phoneauth.cli import app

runner = CliRunner()


def test_connectors_list_prints_a_table_of_every_factory() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "phoneauth", "connectors", "list"],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    for factory_id in (
        "twilio-short-message-service",
        "aliyun-short-message-service",
        "outbox-sms",
        "example-sms",
    ):
        assert factory_id in result.stdout
    assert "SMS connector factories" in result.stdout


def _write(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(config))
    return path


def test_send_prints_the_provider_message_id(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    async def gateway(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = (await receive())["body"]
        seen.append(json.loads(body))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id": "gw-77"}'})

    with serve_in_thread(gateway) as url:
        cfg = _write(tmp_path, {"endpoint": url + "/send"})
        result = runner.invoke(
            app,
            [
                "connectors",
                "send",
                "--connector",
                "http-sms",
                "--config",
                str(cfg),
                "--to",
                "+4915112345678",
                "--usage-type",
                "SignIn",
                "--code",
                "246810",
            ],
        )
    assert result.exit_code == 0, result.output
    assert "gw-77" in result.output
    assert seen == [{"to": "4915112345678", "type": "SignIn", "payload": {"code": "246810"}}]


def test_send_generates_a_random_code_with_the_generic_template_by_default(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    cfg = _write(tmp_path, {"filePath": str(outbox)})
    args = [
        "connectors",
        "send",
        "--connector",
        "outbox-sms",
        "--config",
        str(cfg),
        "--to",
        "+4915112345678",
    ]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, args).exit_code == 0
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    assert [line["usage_type"] for line in lines] == ["Generic", "Generic"]
    codes = [line["payload"]["code"] for line in lines]
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert lines[0]["text"] == f"Your verification code is {codes[0]}."


def test_send_reports_a_connector_error_with_its_code_and_exit_status_1(
    tmp_path: Path, closed_port: int
) -> None:
    cfg = _write(tmp_path, {"endpoint": f"http://127.0.0.1:{closed_port}"})
    result = runner.invoke(
        app,
        [
            "connectors",
            "send",
            "--connector",
            "http-sms",
            "--config",
            str(cfg),
            "--to",
            "+4915112345678",
        ],
    )
    assert result.exit_code == 1
    assert "connector.unreachable" in result.output
    assert "Traceback" not in result.output


def test_send_names_the_invalid_config_fields(tmp_path: Path) -> None:
    cfg = _write(tmp_path, {"accountSID": "AC1"})
    result = runner.invoke(
        app,
        [
            "connectors",
            "send",
            "--connector",
            "twilio-short-message-service",
            "--config",
            str(cfg),
            "--to",
            "+4915112345678",
        ],
    )
    assert result.exit_code == 1
    assert "connector.invalid_config" in result.output
    assert "authToken" in result.output


def test_send_refuses_bad_arguments_without_a_traceback(tmp_path: Path) -> None:
    cfg = _write(tmp_path, {})
    cases = [
        (
            ["--connector", "nope-sms", "--config", str(cfg), "--to", "+4915112345678"],
            1,
            "connector.not_found_with_connector_id",
        ),
        (
            ["--connector", "outbox-sms", "--config", str(cfg), "--to", "12"],
            1,
            "connector.invalid_request_parameters",
        ),
        (
            [
                "--connector",
                "outbox-sms",
                "--config",
                str(cfg),
                "--to",
                "+4915112345678",
                "--usage-type",
                "Login",
            ],
            2,
            "SignIn",
        ),
        (
            [
                "--connector",
                "outbox-sms",
                "--config",
                str(tmp_path / "missing.json"),
                "--to",
                "+4915112345678",
            ],
            2,
            "cannot read",
        ),
    ]
    for args, status, text in cases:
        result = runner.invoke(app, ["connectors", "send", *args])
        assert result.exit_code == status, (args, result.output)
        assert text in result.output, result.output
        assert "Traceback" not in result.output


def test_serve_flags_also_make_the_default_public_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--port` changes where links in SMS point, not only where uvicorn listens."""
    import uvicorn

    import phoneauth.web.app as web_app

    seen: dict[str, Any] = {}
    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(
        web_app, "create_app", lambda settings, **kw: seen.update(settings=settings, **kw)
    )
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(run=kw))
    result = runner.invoke(app, ["serve", "--port", "3911"])
    assert result.exit_code == 0, result.output
    assert seen["run"]["port"] == 3911
    assert seen["settings"].resolved_public_url == "http://127.0.0.1:3911"
    assert seen["serving"] is True


@pytest.mark.parametrize(
    "command", [["serve"], ["migrate"], ["admin", "create-key"], ["tenants", "export", "default"]]
)
def test_a_bad_setting_is_one_line_per_variable_without_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHONEAUTH_DATABASE_URL", "mysql://admin:hunter2@db.example/phoneauth")
    monkeypatch.setenv("PHONEAUTH_PORT", "99999")
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kw: None)  # a regression fails, not hangs
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    shown = " ".join(result.output.split())
    assert "PHONEAUTH_DATABASE_URL: must be a PostgreSQL URL" in shown
    assert "PHONEAUTH_PORT: Input should be less than or equal to 65535" in shown
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "phoneauth.db").exists()  # nothing was started or created


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_serve_refuses_a_port_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    import uvicorn

    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kw: None)  # a regression fails, not hangs
    result = runner.invoke(app, ["serve", "--port", port])
    assert result.exit_code == 2, result.output
    assert "--port" in result.output
    assert not (tmp_path / "phoneauth.db").exists()  # no first-start key printed for nothing


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db.example:5432/auth", "postgresql+asyncpg://u:p@db.example:5432/auth"),
        ("postgres://u@db.example/auth", "postgresql+asyncpg://u@db.example/auth"),
        ("postgresql+asyncpg://u@db.example/auth", "postgresql+asyncpg://u@db.example/auth"),
        ("sqlite:///data/auth.db", "sqlite+aiosqlite:///data/auth.db"),
        ("sqlite:////var/lib/auth.db", "sqlite+aiosqlite:////var/lib/auth.db"),
        ("sqlite+aiosqlite:///auth.db", "sqlite+aiosqlite:///auth.db"),
    ],
)
def test_database_urls_as_providers_print_them_get_the_shipped_drivers(
    given: str, used: str
) -> None:
    from phoneauth.settings import Settings

    assert Settings(database_url=given).resolved_database_url == used


@pytest.mark.parametrize(
    "url",
    [
        "mysql://x/db",
        "notaurl",
        "postgresql+psycopg2://u@h/db",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql://",
    ],
)
def test_database_urls_phoneauth_cannot_use_are_refused(url: str) -> None:
    from pydantic import ValidationError

    from phoneauth.settings import Settings

    with pytest.raises(ValidationError, match="must be a PostgreSQL URL"):
        Settings(database_url=url)


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["serve", "--workers", "2"],
        ["admin", "create-key"],
        ["admin", "setup-token"],
        ["prune"],
        ["tenants", "export", "default"],
    ],
)
def test_an_unreachable_database_is_one_line_with_the_drivers_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int, command: list[str]
) -> None:
    import uvicorn

    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHONEAUTH_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{closed_port}/x")
    monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kw: None)  # a regression fails, not hangs
    result = runner.invoke(app, command)
    assert result.exit_code == 1, result.output
    shown = " ".join(result.output.split())
    assert "server.unavailable: The database cannot be reached, or refused the connection." in shown
    assert f"reason: [Errno 111] Connect call failed ('127.0.0.1', {closed_port})" in shown
    assert "Traceback" not in result.output


def test_serve_on_an_unmigrated_postgresql_schema_says_to_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import uvicorn
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from tests.conftest import POSTGRES_URL

    schema = f"unmigrated_{tmp_path.name[-12:].replace('-', '_')}".lower()

    async def run(statement: str) -> None:
        engine = create_async_engine(POSTGRES_URL)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    try:
        monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("PHONEAUTH_DATABASE_URL", POSTGRES_URL)
        monkeypatch.setenv("PHONEAUTH_DATABASE_SCHEMA", schema)
        monkeypatch.setattr(uvicorn, "run", lambda *_args, **_kw: None)
        result = runner.invoke(app, ["serve", "--workers", "1"])
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))
    assert result.exit_code == 1, result.output
    assert "server.schema_outdated" in result.output
    assert "Traceback" not in result.output
