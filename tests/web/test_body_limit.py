"""Every route that reads a body refuses one past its limit (no route escapes the limit)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from phoneauth.settings import Settings
from phoneauth.web.app import create_app
from phoneauth.web.body_limit import BodyLimits, is_console

LIMIT = 4096
FORM_LIMIT = 8192


@pytest.fixture
async def small_limits(tmp_path: Path) -> AsyncIterator[FastAPI]:
    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key=SecretStr("body-limit-tests"),
        max_body_bytes=LIMIT,
        max_form_bytes=FORM_LIMIT,
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


def routes_with_a_body(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document that takes a body, its path parameters filled."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]


async def streamed(size: int) -> AsyncIterator[bytes]:
    """A body without Content-Length, in pieces: counted as it arrives."""
    for _ in range(size // 1024):
        yield b" " * 1024
    yield b" " * (size % 1024)


async def test_every_api_route_with_a_body_refuses_a_streamed_body_past_the_limit(
    small_limits: FastAPI,
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=small_limits), base_url="http://phoneauth.test"
    ) as client:
        routes = routes_with_a_body((await client.get("/openapi.json")).json())
        assert len(routes) > 40  # the Management, Experience and Account APIs, twice
        for method, path in routes:
            response = await client.request(
                method,
                path,
                content=streamed(LIMIT + 1),
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 413, (method, path, response.text)
            assert response.json()["code"] == "request.body_too_large"
            assert response.json()["details"] == {"max_bytes": LIMIT}


def test_the_console_has_its_own_limit() -> None:
    limits = BodyLimits(api=LIMIT, console=FORM_LIMIT)
    assert limits.for_path("/console/connectors") == FORM_LIMIT
    assert limits.for_path("/console") == FORM_LIMIT
    assert limits.for_path("/consoles") == LIMIT
    assert limits.for_path("/api/connectors") == LIMIT
    assert not is_console("/t/acme/api/console")
