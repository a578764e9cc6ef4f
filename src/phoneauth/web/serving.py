"""How `phoneauth serve` runs the app under uvicorn: one process, or several worker processes.

One worker serves an app object built in the serving process. Several workers each build their
own app from the environment (`app_factory`, uvicorn's `factory=True`): `phoneauth serve` puts
every setting its flags change into `PHONEAUTH_*` before the workers start, and does the first
start's work once (SQLite migrations, the default tenant, the first admin key printed once), so
that the workers never race for it. With metrics on, the workers share a private folder where
each writes its counts (`shared_metrics`), so that any of them answers a scrape with the sum.

`server_options()` is the one place that picks uvicorn's event loop and HTTP parser; `make bench`
serves its reference endpoint with the same options. `uvicorn_options()` adds what the settings
decide: where to listen, the access log's masking, and which peers' proxy headers to believe.
"""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import uvicorn.config
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from phoneauth.connectors import load_registry
from phoneauth.errors import PhoneauthError
from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.storage.schema_version import SCHEMA_HEAD, stored_revision
from phoneauth.web.access_log import AccessLineFormatter, AccessLogFilter
from phoneauth.web.app import create_app
from phoneauth.wiring import build_services, prepare_schema

FACTORY = "phoneauth.web.serving:app_factory"


def is_sqlite(settings: Settings) -> bool:
    return settings.resolved_database_url.startswith("sqlite")


class MigrationFailedError(PhoneauthError):
    """`phoneauth migrate`, run before serving, did not bring the schema up to date."""

    code = "server.migration_failed"
    status = 503


async def _schema_is_current(settings: Settings) -> bool:
    database = open_database(settings.resolved_database_url, schema=settings.database_schema)
    try:
        return await stored_revision(database.engine) == SCHEMA_HEAD
    except (DBAPIError, OSError):
        return False  # unreadable: `phoneauth migrate` says why
    finally:
        await database.dispose()


def migrate_apart(settings: Settings) -> None:
    """An SQLite schema that is behind (a new data folder, an upgrade) is migrated by `phoneauth
    migrate` in a process of its own before the server starts. Migrated in the serving process,
    Alembic and its templates stayed there for its whole life: 11 MB of resident memory, needed
    once. PostgreSQL is only migrated by `phoneauth migrate` (the start-up check says so)."""
    if not is_sqlite(settings) or asyncio.run(_schema_is_current(settings)):
        return
    done = subprocess.run([sys.executable, "-m", "phoneauth", "migrate"], check=False)
    if done.returncode != 0:
        raise MigrationFailedError(
            "Could not bring the database schema up to date: `phoneauth migrate` failed (its "
            "output is above)."
        )


def default_workers(settings: Settings) -> int:
    """One process per SQLite file (its write lock is the limit); a worker per CPU otherwise."""
    return 1 if is_sqlite(settings) else max(os.cpu_count() or 1, 1)


def server_options() -> dict[str, Any]:
    """uvicorn's loop and HTTP parser: uvloop and httptools (dependencies of phoneauth) when they
    are installed, else the pure-Python ones; uvicorn's `auto`, made explicit so it can be
    reported. No websockets: phoneauth serves none, and loading a websockets library costs every
    process memory."""
    return {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "ws": "none",
    }


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the access log's target masked (no phone
    number or code in a query string reaches the log) and its lines formatted for a third of
    the cost of uvicorn's formatter (`phoneauth.web.access_log`)."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["mask_targets"] = {"()": AccessLogFilter}
    config["loggers"]["uvicorn.access"]["filters"] = ["mask_targets"]
    config["formatters"]["access"]["()"] = AccessLineFormatter
    return config


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Believe X-Forwarded-For and X-Forwarded-Proto only from PHONEAUTH_TRUSTED_PROXIES.

    uvicorn believes them from 127.0.0.1 unless told otherwise (or FORWARDED_ALLOW_IPS says
    more), so behind no proxy a local client could name any address and escape the per-IP
    limits. With no trusted proxy the headers are not read at all."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Everything `phoneauth serve` passes to `uvicorn.run` but the app and the workers."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        "log_config": log_config(),
        **proxy_options(settings),
        **server_options(),
    }


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s %(name)s %(message)s"
    )


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@contextmanager
def stop_signals_exit_cleanly() -> Iterator[None]:
    """Within the block, Ctrl-C (SIGINT) and `kill` (SIGTERM) end the process with exit code 0.

    uvicorn shuts down gracefully on either, then raises the signal again against the handler
    it found at start. Python's default for SIGTERM kills the process, which `uv run` and
    `make run` reported as "Error 143" after every Ctrl-C; a stop that was asked for is a
    success. Set before uvicorn starts, so a signal during start-up also ends cleanly; the
    previous handlers come back afterwards (tests run `serve` in their own process).
    """
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {stop: signal.signal(stop, _exit_cleanly) for stop in stops}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def worker_environment(settings: Settings) -> dict[str, str]:
    """The settings the workers must see that the environment may not hold yet (the flags)."""
    return {"PHONEAUTH_HOST": settings.host, "PHONEAUTH_PORT": str(settings.port)}


async def check_database(settings: Settings) -> None:
    """Before one worker serves: the database answers and its schema is current, else a coded
    error that `serve` prints as a line (in the app's start, uvicorn printed a traceback)."""
    database = open_database(settings.resolved_database_url, schema=settings.database_schema)
    try:
        await prepare_schema(database)
    finally:
        await database.dispose()


async def first_start(settings: Settings) -> None:
    """The first start's work, done once before the workers start: schema (SQLite), the default
    tenant, the first Management API key (printed here, once). Raises `PhoneauthError` when the
    database is not ready (PostgreSQL not migrated)."""
    services = await build_services(settings, load_registry())
    await services.close()


@contextmanager
def shared_metrics(settings: Settings) -> Iterator[None]:
    """With metrics on, the workers started in the block count into one private folder (made
    empty and 0700 here, removed afterwards), so a scrape at any of them sums them all."""
    if settings.metrics_token is None:
        yield
        return
    from phoneauth.metrics.multiprocess import private_directory

    with private_directory():
        yield


def app_factory() -> FastAPI:
    """One worker's app: its settings from the environment, as `phoneauth serve` left it."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings, serving=True)
