"""What `phoneauth serve` hands uvicorn: proxy headers only from trusted proxies, the masking
access log, and the settings that decide them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from phoneauth.cli import app
from phoneauth.settings import Settings
from phoneauth.web import serving
from phoneauth.web.access_log import AccessLogFilter


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("", ()),
        ("127.0.0.1", ("127.0.0.1",)),
        (" 10.0.0.0/8 , 192.168.1.7,::1 ", ("10.0.0.0/8", "192.168.1.7", "::1")),
        ("fd00::/8", ("fd00::/8",)),
        ("*", ("*",)),
    ],
)
def test_trusted_proxies_are_read_comma_separated(
    value: str, parsed: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHONEAUTH_TRUSTED_PROXIES", value)
    assert Settings().trusted_proxies == parsed


@pytest.mark.parametrize("value", ["proxy.internal", "10.0.0.5/24", "10.0.0.0/33", "*,10.0.0.1"])
def test_an_entry_that_is_no_address_or_network_is_refused(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHONEAUTH_TRUSTED_PROXIES", value)
    with pytest.raises(ValidationError, match="is not an IP address or network"):
        Settings()


def test_by_default_no_proxy_header_is_believed() -> None:
    options = serving.uvicorn_options(Settings())
    assert options["proxy_headers"] is False
    assert "forwarded_allow_ips" not in options


def test_trusted_proxies_are_the_only_peers_whose_headers_count() -> None:
    options = serving.uvicorn_options(Settings(trusted_proxies="10.1.2.3,172.16.0.0/12"))
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.1.2.3", "172.16.0.0/12"]


def test_the_body_limits_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings().max_body_bytes, Settings().max_form_bytes) == (65536, 1048576)
    monkeypatch.setenv("PHONEAUTH_MAX_BODY_BYTES", "100")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_passes_the_options_to_uvicorn(
    workers: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    import phoneauth.web.app as web_app

    seen: dict[str, Any] = {}

    async def no_first_start(settings: Any) -> None:
        pass

    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PHONEAUTH_TRUSTED_PROXIES", "10.0.0.0/8")
    monkeypatch.setattr(serving, "first_start", no_first_start)
    monkeypatch.setattr(web_app, "create_app", lambda settings, **kw: object())
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setattr(os, "environ", dict(os.environ))
    result = CliRunner().invoke(app, ["serve", "--workers", workers])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is True
    assert seen["forwarded_allow_ips"] == ["10.0.0.0/8"]
    assert seen["log_config"]["filters"]["mask_targets"]["()"] is AccessLogFilter
