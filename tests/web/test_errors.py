"""The error envelope keeps the headers HTTP clients act on: `Allow` on 405, and the like."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from phoneauth.web.errors import install_error_handlers


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/api/connectors", "GET, HEAD, POST"),
        ("PUT", "/api/connectors/some-id", "DELETE, GET, HEAD, PATCH"),
        ("DELETE", "/api/tenant", "GET, HEAD, PATCH"),
        ("GET", "/api/verification-codes", "POST"),
        ("HEAD", "/api/verification-codes", "POST"),
        ("PATCH", "/t/default/api/tenants", "GET, HEAD, POST"),
    ],
)
async def test_405_names_every_method_of_the_path(
    api: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await api.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    if method == "HEAD":
        assert response.content == b""
        return
    assert response.json() == {
        "code": "request.method_not_allowed",
        "message": "Method Not Allowed",
        "details": {},
    }


async def test_an_http_exceptions_own_headers_reach_the_client() -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/private")
    async def private() -> None:
        raise HTTPException(401, "Log in first.", headers={"WWW-Authenticate": 'Bearer realm="x"'})

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/private")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="x"'
    assert response.json()["code"] == "request.general"


async def test_database_trouble_is_a_retryable_503_and_anything_else_a_500() -> None:
    import sqlite3

    from fastapi import FastAPI
    from sqlalchemy.exc import OperationalError

    from phoneauth.errors import DatabaseBusyError, DatabaseUnavailableError
    from phoneauth.web.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/busy")
    async def busy() -> None:
        raise DatabaseBusyError()

    @app.get("/down")
    async def down() -> None:
        raise DatabaseUnavailableError()

    @app.get("/broken")
    async def broken() -> None:
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: x"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        locked = await client.get("/busy")
        unavailable = await client.get("/down")
        other = await client.get("/broken")
    assert (locked.status_code, locked.headers["retry-after"]) == (503, "1")
    assert locked.json() == {
        "code": "server.busy",
        "message": "The server is busy; try again in a moment.",
        "details": {"retry_after": 1},
    }
    assert (unavailable.status_code, unavailable.headers["retry-after"]) == (503, "5")
    assert unavailable.json()["code"] == "server.unavailable"
    assert unavailable.json()["details"] == {"retry_after": 5}
    assert other.status_code == 500
    assert other.json()["code"] == "unknown"


async def test_a_client_gone_mid_request_is_no_error_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/upload")
    async def upload() -> None:
        raise ClientDisconnect()

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/upload", content=b"{}")
    assert response.status_code == 400
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
