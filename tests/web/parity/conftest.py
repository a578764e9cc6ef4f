"""Fixtures for the Logto-parity route tests: the app served over real HTTP on 127.0.0.1, with a
fake Have I Been Pwned range endpoint, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.servers import serve_in_thread

from phoneauth.settings import Settings
from phoneauth.web.app import create_app

BREACHED = "Breached-Passw0rd"
"""The one password the fake breach list holds."""


@pytest.fixture(scope="module")
def pwned_server() -> Iterator[str]:
    """A real HTTP server answering HIBP's range API with one breached suffix."""
    digest = hashlib.sha1(BREACHED.encode()).hexdigest().upper()  # noqa: S324 - HIBP's scheme

    class Range(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            prefix = self.path.rsplit("/", 1)[-1].upper()
            lines = ["0018A45C4D1DEF81644B54AB7F969B88D65:3"]
            if prefix == digest[:5]:
                lines.append(f"{digest[5:]}:42")
            body = "\r\n".join(lines).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Range)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/range/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def module_settings(module_settings: Settings, pwned_server: str) -> Settings:
    return module_settings.model_copy(update={"pwned_passwords_url": pwned_server})


@pytest.fixture(scope="module")
def served_app(module_settings: Settings) -> FastAPI:
    """The app object `base_url` serves: one per module, its routes built once (`module_app`)."""
    return create_app(module_settings)


@pytest.fixture
def base_url(settings: Settings, admin_key: str, served_app: FastAPI) -> Iterator[str]:
    """A second app on the same database (the first, from `app`, made the default tenant and
    the admin key), served by uvicorn in a thread, which runs its lifespan anew."""
    with serve_in_thread(served_app) as url:
        yield url


@pytest.fixture
def admin(base_url: str, admin_key: str) -> Iterator[httpx.Client]:
    with local_http.client(
        base_url=base_url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=60
    ) as client:
        yield client


@pytest.fixture
def end_user(base_url: str) -> Iterator[httpx.Client]:
    """A browser: no admin key, its own cookies."""
    with local_http.client(base_url=base_url, timeout=60) as client:
        yield client
