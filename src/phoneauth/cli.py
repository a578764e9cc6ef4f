"""The `phoneauth` command: serve, and try connectors from the shell."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from phoneauth.connectors import (
    SendResult,
    SmsMessage,
    UsageType,
    build_http_client,
    load_registry,
)
from phoneauth.domain.tenant_migration import TenantMigration
from phoneauth.errors import PhoneauthError
from phoneauth.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="phoneauth: phone-number sign-in with one-time SMS codes.", no_args_is_help=True
)
connectors_app = typer.Typer(help="List SMS connectors and send a test code.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")
admin_app = typer.Typer(
    help="Management API keys and the console's setup token.", no_args_is_help=True
)
app.add_typer(admin_app, name="admin")
keys_app = typer.Typer(help="Signing keys of access tokens.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
tenants_app = typer.Typer(
    help="Export a tenant's configuration, import it into another.", no_args_is_help=True
)
app.add_typer(tenants_app, name="tenants")

out = Console()
err = Console(stderr=True)


def load_settings() -> Settings:
    """The settings from the environment; a bad value is one line per setting (its variable
    and what is wrong), never a traceback, and never the value itself: a database URL may
    hold a password."""
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            name = "_".join(str(part) for part in problem["loc"]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            err.print(f"[red]PHONEAUTH_{name}[/red]: {message}", highlight=False)
        raise typer.Exit(2) from None


def _fail(error: PhoneauthError) -> typer.Exit:
    err.print(f"[red]{error.code}[/red]: {error.message}")
    for key, value in error.details.items():
        err.print(f"  {key}: {value}")
    return typer.Exit(1)


def _positive_workers(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise typer.BadParameter(f"{value} workers cannot serve anything: give 1 or more.")
    return value


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.", min=1, max=65535)] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            callback=_positive_workers,
            help="Worker processes. Default: 1 on SQLite, one per CPU on PostgreSQL.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the service (SQLite in ./data unless PHONEAUTH_DATABASE_URL says otherwise)."""
    import os

    import uvicorn

    from phoneauth.web import serving
    from phoneauth.web.app import create_app

    settings = load_settings()
    # The flags win over the environment, for listening and for the default public URL alike.
    settings = settings.model_copy(
        update={"host": host or settings.host, "port": port or settings.port}
    )
    serving.configure_logging(settings)
    count = workers if workers is not None else serving.default_workers(settings)
    options = serving.uvicorn_options(settings)
    try:
        serving.migrate_apart(settings)
        if count == 1:  # several workers: `first_start` below checks it
            asyncio.run(serving.check_database(settings))
    except PhoneauthError as error:
        raise _fail(error) from None
    if count == 1:
        with serving.stop_signals_exit_cleanly():
            uvicorn.run(create_app(settings, serving=True), **options)
        return
    if serving.is_sqlite(settings):
        err.print(
            f"[yellow]note[/yellow]: {count} workers share one SQLite file and its one write "
            "lock; PostgreSQL is the database for several workers."
        )
    if not settings.redis_url:
        err.print(
            f"[yellow]note[/yellow]: without PHONEAUTH_REDIS_URL each of the {count} workers "
            "counts rate limits on its own, so a client may get up to that many times each limit."
        )
    try:
        asyncio.run(serving.first_start(settings))
    except PhoneauthError as error:
        raise _fail(error) from None
    # Each worker builds its own app from the environment (uvicorn spawns fresh interpreters).
    os.environ.update(serving.worker_environment(settings))
    with serving.stop_signals_exit_cleanly(), serving.shared_metrics(settings):
        uvicorn.run(serving.FACTORY, factory=True, workers=count, **options)


@connectors_app.command("list")
def list_connectors() -> None:
    """Print every connector factory: built-in and installed third-party ones."""
    registry = load_registry()
    table = Table(title="SMS connector factories")
    table.add_column("ID", no_wrap=True)
    table.add_column("Name")
    table.add_column("Description")
    for factory in registry:
        table.add_row(factory.id, factory.name, factory.description)
    out.print(table)
    for broken in registry.unavailable:
        err.print(f"[yellow]unavailable[/yellow] {broken.name} ({broken.source}): {broken.reason}")


def _read_config(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise typer.BadParameter(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise typer.BadParameter(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path} must hold a JSON object")
    return data


def _usage_type(value: str) -> UsageType:
    try:
        return UsageType(value)
    except ValueError:
        choices = ", ".join(usage.value for usage in UsageType)
        raise typer.BadParameter(f"{value!r} is not one of: {choices}") from None


async def _send(
    factory_id: str, config: dict[str, Any], message: SmsMessage, seconds: float
) -> SendResult:
    factory = load_registry().get(factory_id)
    # The operator's own config file, not a tenant's: local gateways are fine here.
    async with build_http_client(timeout=seconds, allow_private_hosts=True) as client:
        return await factory.build(config, client, timeout=seconds).send(message)


@connectors_app.command("send")
def send(
    connector: Annotated[str, typer.Option(help="Factory id, e.g. twilio-short-message-service.")],
    config: Annotated[Path, typer.Option(help="The connector config as a Logto-shaped JSON file.")],
    to: Annotated[
        str, typer.Option(help="Recipient in international format, e.g. +4915112345678.")
    ],
    usage_type: Annotated[str, typer.Option(help="Which template to use.")] = "Generic",
    code: Annotated[
        str | None, typer.Option(help="The code to send; random 6 digits if omitted.")
    ] = None,
    locale: Annotated[str | None, typer.Option(help="Pick the template for this locale.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the provider.")] = 10.0,
) -> None:
    """Send one verification code and print the provider's message id."""
    payload: dict[str, str] = {"code": code or f"{secrets.randbelow(10**6):06d}"}
    if locale:
        payload["locale"] = locale
    try:
        message = SmsMessage(to=to, usage_type=_usage_type(usage_type), payload=payload)
        result = asyncio.run(_send(connector, _read_config(config), message, timeout))
    except PhoneauthError as error:
        raise _fail(error) from None
    out.print(f"Sent. Provider message id: {result.provider_message_id or '(none given)'}")


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (needed for PostgreSQL; SQLite migrates on start)."""
    from phoneauth.storage.database import open_database
    from phoneauth.storage.migrate import current_revision, upgrade

    settings = load_settings()

    async def run() -> str | None:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await upgrade(database.engine)
            return await current_revision(database.engine)
        finally:
            await database.dispose()

    try:
        revision = asyncio.run(run())
    except (DBAPIError, OSError) as error:
        # Unreadable file, server down, refused login: the driver's own words, no traceback.
        reason = error.orig if isinstance(error, DBAPIError) else error
        err.print(
            f"[red]server.migration_failed[/red]: the database could not be migrated: {reason}"
        )
        raise typer.Exit(1) from None
    out.print(f"Database schema at revision {revision}.")


@admin_app.command("create-key")
def create_key(
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    tenant: Annotated[
        str | None, typer.Option(help="Restrict the key to this tenant; global if omitted.")
    ] = None,
) -> None:
    """Print a new Management API key (shown once; only its hash is stored)."""
    from phoneauth.domain.admin_keys import AdminKeys
    from phoneauth.domain.tenants import Tenants
    from phoneauth.storage.database import open_database
    from phoneauth.storage.repositories.admin_keys import SqlAdminKeyStore
    from phoneauth.storage.repositories.tenants import SqlTenantStore
    from phoneauth.wiring import prepare_schema

    settings = load_settings()

    async def run() -> str:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await prepare_schema(database)
            tenants = Tenants(SqlTenantStore(database))
            await tenants.ensure_default()
            if tenant is not None:
                await tenants.get(tenant)
            _, key = await AdminKeys(SqlAdminKeyStore(database)).create(name, tenant)
            return key
        finally:
            await database.dispose()

    try:
        key = asyncio.run(run())
    except PhoneauthError as error:
        raise _fail(error) from None
    out.print(key)


@admin_app.command("setup-token")
def setup_token() -> None:
    """Print a new one-time token that creates the console's first admin (the previous one stops
    working); refused once the console has an admin."""
    from phoneauth.domain.console_setup import SetupTokens
    from phoneauth.storage.database import open_database
    from phoneauth.storage.repositories.console import SqlConsoleAdminStore
    from phoneauth.wiring import prepare_schema

    settings = load_settings()

    async def run() -> str:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await prepare_schema(database)
            return await SetupTokens(SqlConsoleAdminStore(database)).issue()
        finally:
            await database.dispose()

    try:
        token = asyncio.run(run())
    except PhoneauthError as error:
        raise _fail(error) from None
    out.print(token, markup=False, highlight=False, soft_wrap=True)


@app.command()
def prune() -> None:
    """Delete used and expired codes and message-log entries past each tenant's retention."""
    from datetime import UTC, datetime

    from phoneauth.domain.code_retention import PruneResult
    from phoneauth.domain.code_retention import prune as prune_expired
    from phoneauth.storage.database import open_database
    from phoneauth.storage.repositories.message_log import SqlMessageLogStore
    from phoneauth.storage.repositories.tenants import SqlTenantStore
    from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore
    from phoneauth.wiring import prepare_schema

    settings = load_settings()

    async def run() -> PruneResult:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await prepare_schema(database)
            return await prune_expired(
                datetime.now(UTC),
                tenants=SqlTenantStore(database),
                codes=SqlVerificationCodeStore(database),
                messages=SqlMessageLogStore(database),
            )
        finally:
            await database.dispose()

    try:
        result = asyncio.run(run())
    except PhoneauthError as error:
        raise _fail(error) from None
    out.print(f"Pruned {result.codes} codes and {result.messages} message-log entries.")


@keys_app.command("rotate")
def rotate_keys(
    tenant: Annotated[str, typer.Option(help="The tenant whose key to rotate.")] = "default",
) -> None:
    """Add a new ES256 signing key; tokens signed by the old one stay valid for a grace period."""
    from phoneauth.wiring import build_services

    settings = load_settings()

    async def run() -> str:
        services = await build_services(settings, load_registry())
        try:
            await services.tenants.get(tenant)
            return await services.sessions.rotate(tenant)
        finally:
            await services.close()

    try:
        kid = asyncio.run(run())
    except PhoneauthError as error:
        raise _fail(error) from None
    out.print(f"New signing key {kid} for tenant {tenant}.")


def _with_migration(work: Callable[[TenantMigration], Awaitable[T]]) -> T:
    """Run `work` over the service's own domain services (same database and secret key)."""
    from phoneauth.wiring import build_services

    settings = load_settings()

    async def run() -> T:
        services = await build_services(settings, load_registry())
        try:
            migration = TenantMigration(
                services.tenants, services.connectors, services.sign_in_experience
            )
            return await work(migration)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except PhoneauthError as error:
        raise _fail(error) from None


@tenants_app.command("export")
def export_tenant(
    tenant: Annotated[str, typer.Argument(help="The tenant id, e.g. default.")],
    include_secrets: Annotated[
        bool, typer.Option("--include-secrets", help="Put the connectors' secrets in clear.")
    ] = False,
) -> None:
    """Print the tenant's SMS and Email connectors, templates and sign-in experience as JSON."""
    document = _with_migration(lambda m: m.export(tenant, include_secrets=include_secrets))
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


@tenants_app.command("import")
def import_tenant(
    tenant: Annotated[str, typer.Argument(help="The tenant to change.")],
    file: Annotated[Path, typer.Argument(help="A file written by `phoneauth tenants export`.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change.")
    ] = False,
) -> None:
    """Apply an export to a tenant; print each change (before → after)."""
    data = _read_config(file)
    result = _with_migration(lambda m: m.import_(tenant, data, dry_run=dry_run))
    for change in result.changes:
        before = json.dumps(change.before, ensure_ascii=False)
        after = json.dumps(change.after, ensure_ascii=False)
        out.print(
            f"{change.path}: {before} → {after}", markup=False, highlight=False, soft_wrap=True
        )
    if not result.changes:
        out.print("Nothing to change.")
    verb = "Applied" if result.applied else "Dry run, nothing changed:"
    out.print(f"{verb} {len(result.changes)} change(s) to tenant {tenant}.")


def main() -> None:
    app()
