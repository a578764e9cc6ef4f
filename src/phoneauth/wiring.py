"""The wiring: every service built once from settings, for the app and every CLI command."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import httpx
from sqlalchemy.exc import DBAPIError

from phoneauth.connectors import ConnectorRegistry, build_http_client
from phoneauth.connectors.http import utc_now
from phoneauth.crypto import ConfigCipher, derive_key, load_master_secret
from phoneauth.domain.account import Account
from phoneauth.domain.admin_keys import AdminKeys
from phoneauth.domain.api_resources import ApiResources
from phoneauth.domain.applications import Applications
from phoneauth.domain.connector_management import ConnectorManagement
from phoneauth.domain.console_admins import ConsoleAdmins
from phoneauth.domain.delivery_polling import DeliveryPolling
from phoneauth.domain.delivery_reports import DeliveryReports, EveryReportingConnector
from phoneauth.domain.delivery_routing import DeliveryRouting
from phoneauth.domain.experience import Experience
from phoneauth.domain.interactions import Interactions
from phoneauth.domain.management_callers import ManagementCallers
from phoneauth.domain.message_log import MessageLog
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.oidc.records import OidcStore, ResourceLookup
from phoneauth.domain.oidc.tokens import OidcTokens
from phoneauth.domain.organizations import Organizations
from phoneauth.domain.password_policy import PwnedLookup
from phoneauth.domain.pwned_passwords import PwnedPasswords
from phoneauth.domain.rate_limit_counters import TallyCounters
from phoneauth.domain.rate_limit_fallback import FallbackCounters
from phoneauth.domain.rate_limit_memory import MemoryCounters
from phoneauth.domain.rate_limits import RateLimits
from phoneauth.domain.sealed_recipients import SealedRecipients
from phoneauth.domain.sessions import Sessions
from phoneauth.domain.sign_in_experience import SignInExperiences
from phoneauth.domain.sms_protection import SmsProtection
from phoneauth.domain.tenants import Tenants
from phoneauth.domain.user_admin import UserAdmin
from phoneauth.domain.users import UserStore
from phoneauth.domain.verification_codes import VerificationCodes
from phoneauth.errors import PhoneauthError
from phoneauth.settings import Settings
from phoneauth.storage.database import Database, open_database
from phoneauth.storage.repositories.admin_keys import SqlAdminKeyStore
from phoneauth.storage.repositories.api_resources import SqlApiResourceStore
from phoneauth.storage.repositories.applications import SqlApplicationStore
from phoneauth.storage.repositories.connectors import SqlConnectorStore
from phoneauth.storage.repositories.console import SqlConsoleAdminStore
from phoneauth.storage.repositories.interactions import SqlInteractionStore
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.oidc import SqlOidcStore
from phoneauth.storage.repositories.organizations import SqlOrganizationStore
from phoneauth.storage.repositories.sessions import SqlSessionStore, SqlSigningKeyStore
from phoneauth.storage.repositories.sign_in_experiences import SqlSignInExperienceStore
from phoneauth.storage.repositories.sms_protection import SqlSuspensionStore
from phoneauth.storage.repositories.sms_routing import SqlSmsRoutingStore
from phoneauth.storage.repositories.tenants import SqlTenantStore
from phoneauth.storage.repositories.users import SqlUserStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore
from phoneauth.storage.repositories.verification_records import SqlVerificationRecordStore
from phoneauth.storage.schema_version import SCHEMA_HEAD, stored_revision
from phoneauth.storage.versioned_cache import cache_for

if TYPE_CHECKING:
    from phoneauth.domain.oidc.provider import OidcProvider

log = logging.getLogger("phoneauth.wiring")

DEPENDENCY_TIMEOUT_S = 5.0
"""How long `/health` waits for one dependency before calling it unavailable."""


class DatabaseUnreachableError(PhoneauthError):
    """The database cannot be reached, or refused the connection.

    `details.reason` holds the driver's own words (an address, a refused login): for the
    operator at the command line, never in an answer to a request."""

    code = "server.unavailable"
    status = 503


class SchemaOutdatedError(PhoneauthError):
    """The database schema is older than this version of phoneauth: run `phoneauth migrate`."""

    code = "server.schema_outdated"
    status = 503


@dataclass
class Services:
    settings: Settings
    database: Database
    registry: ConnectorRegistry
    http_client: httpx.AsyncClient
    cipher: ConfigCipher
    code_hash_key: bytes
    tenants: Tenants
    admin_keys: AdminKeys
    # Services added by later modules go below, one field each, built in build_services().
    metrics: Metrics = field(init=False)
    connectors: ConnectorManagement = field(init=False)
    message_log: MessageLog = field(init=False)
    codes: VerificationCodes = field(init=False)
    users: UserStore = field(init=False)
    user_admin: UserAdmin = field(init=False)
    sessions: Sessions = field(init=False)
    sign_in_experience: SignInExperiences = field(init=False)
    interaction_cookie_key: bytes = field(init=False)
    interactions: Interactions = field(init=False)
    experience: Experience = field(init=False)
    account: Account = field(init=False)
    organizations: Organizations = field(init=False)
    console: ConsoleAdmins = field(init=False)
    pwned_passwords: PwnedLookup | None = field(init=False)
    applications: Applications = field(init=False)
    oidc_tokens: OidcTokens = field(init=False)
    oidc_store: OidcStore = field(init=False)
    oidc_resources: ResourceLookup = field(init=False)
    api_resources: ApiResources = field(init=False)
    management_callers: ManagementCallers = field(init=False)
    delivery_reports: DeliveryReports = field(init=False)
    delivery_polling: DeliveryPolling = field(init=False)
    delivery_routing: DeliveryRouting = field(init=False)
    sms_protection: SmsProtection = field(init=False)

    @cached_property
    def oidc(self) -> OidcProvider:
        """The OpenID Connect provider, built on a process's first OIDC request: it loads
        Authlib (~3 MB of memory), which a process that never serves one does not need."""
        from phoneauth.domain.oidc.provider import OidcProvider

        return OidcProvider(
            store=self.oidc_store,
            applications=self.applications,
            sessions=self.sessions,
            users=self.users,
            tokens=self.oidc_tokens,
            resources=self.oidc_resources,
            clock=utc_now,
        )

    async def dependency_status(self) -> dict[str, str]:
        """`{"database": ..., "redis": ...}`: the database `ok` or `unavailable`; Redis `ok`,
        `degraded` (unreachable: each process counts rate limits in its own memory meanwhile)
        or `not configured`. Failures are logged, never raised."""
        status = {"database": "ok", "redis": "not configured"}
        status["database"] = await _reachable("database", self._database_answers())
        if self.settings.redis_url:
            status["redis"] = await _reachable(
                "Redis", self.codes.rate_limits.check(), down="degraded"
            )
        return status

    async def _database_answers(self) -> bool:
        await self.database.ping()
        return True

    async def close(self) -> None:
        # SMS still on their way (answered in the background) need the client and the
        # message log: they end, or are cancelled and logged, first.
        await self.codes.background.drain(grace=self.settings.http_timeout + 1.0)
        await self.codes.rate_limits.close()
        await self.http_client.aclose()
        await self.database.dispose()


def redis_counters(url: str) -> TallyCounters:
    """Counters in Redis with process memory behind them for its outages (degraded, never
    unlimited). Imported only when configured: its client library costs every process several
    MB of memory."""
    from phoneauth.storage.rate_limit_redis import RedisCounters

    return FallbackCounters(RedisCounters(url))


async def _reachable(name: str, check: Awaitable[bool], *, down: str = "unavailable") -> str:
    """`ok` when `check` answers True within the timeout, else `down` (logged)."""
    try:
        async with asyncio.timeout(DEPENDENCY_TIMEOUT_S):
            if await check:
                return "ok"
        log.warning("health: %s %s", name, down)
    except Exception as error:  # any failure to reach it is the same
        log.warning("health: %s %s (%s)", name, down, type(error).__name__)
    return down


async def prepare_schema(database: Database) -> None:
    """SQLite is migrated on start; PostgreSQL only by `phoneauth migrate`, checked here.

    Alembic is imported only when the schema is behind (see `schema_version`). A database that
    cannot be reached is `DatabaseUnreachableError` with the driver's reason: every command and
    the start say so in a line, not a traceback."""
    try:
        revision = await stored_revision(database.engine)
    except (DBAPIError, OSError) as error:
        reason = error.orig if isinstance(error, DBAPIError) else error
        raise DatabaseUnreachableError(reason=str(reason)) from None
    if revision == SCHEMA_HEAD:
        return
    if not database.is_sqlite:
        raise SchemaOutdatedError()
    # Imported here: Alembic costs 10 MB of memory and is rarely needed after the first start.
    from phoneauth.storage.migrate import upgrade

    await upgrade(database.engine)


async def build_services(
    settings: Settings, registry: ConnectorRegistry, *, metrics: Metrics = NO_METRICS
) -> Services:
    """Every service, counting into `metrics` (the app's, when it serves `/metrics`)."""
    database = open_database(settings.resolved_database_url, schema=settings.database_schema)
    await prepare_schema(database)
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    master = load_master_secret(configured, settings.data_dir)
    services = Services(
        settings=settings,
        database=database,
        registry=registry,
        http_client=build_http_client(
            timeout=settings.http_timeout,
            allow_private_hosts=settings.connector_allow_private_hosts,
        ),
        cipher=ConfigCipher(derive_key(master, "connector-config")),
        code_hash_key=derive_key(master, "verification-code"),
        tenants=Tenants(SqlTenantStore(database, cache=cache_for(database))),
        admin_keys=AdminKeys(SqlAdminKeyStore(database, cache=cache_for(database))),
    )
    # Later services are attached here (services.<name> = ...), before the first request.
    services.metrics = metrics
    services.users = SqlUserStore(database)
    services.sessions = Sessions(
        SqlSigningKeyStore(database),
        SqlSessionStore(database),
        services.users,
        services.cipher,
        utc_now,
    )
    message_store = SqlMessageLogStore(database)
    services.message_log = MessageLog(message_store, metrics=metrics)
    services.user_admin = UserAdmin(services.users, services.sessions)
    services.connectors = ConnectorManagement(
        SqlConnectorStore(database, cache=cache_for(database)),
        registry,
        services.http_client,
        services.cipher,
        allow_private_hosts=settings.connector_allow_private_hosts,
        message_log=services.message_log,
    )
    # The default sign-in experience follows the tenant's SMS connector (no phone sign-in without).
    services.sign_in_experience = SignInExperiences(
        SqlSignInExperienceStore(database, cache=cache_for(database)), services.connectors
    )
    services.delivery_routing = DeliveryRouting(
        SqlSmsRoutingStore(database, cache=cache_for(database)),
        services.connectors,
        utc_now,
        metrics=metrics,
    )
    # Numbers kept, encrypted, only for providers whose status query needs them (Aliyun).
    sealed_recipients = SealedRecipients(
        services.cipher,
        [factory.id for factory in registry if factory.status_query_needs_recipient],
    )
    # The pumping defence counts on the rate limits' counters: shared with Redis, as they are.
    counters: TallyCounters = (
        redis_counters(settings.redis_url) if settings.redis_url else MemoryCounters()
    )
    services.sms_protection = SmsProtection(
        counters,
        SqlSuspensionStore(database, cache=cache_for(database)),
        hash_key=services.code_hash_key,
        metrics=metrics,
    )
    services.codes = VerificationCodes(
        store=SqlVerificationCodeStore(database),
        message_log=services.message_log,
        rate_limits=RateLimits(counters, hash_key=services.code_hash_key, metrics=metrics),
        hash_key=services.code_hash_key,
        connectors=services.connectors,
        email_connectors=services.connectors,
        tenants=services.tenants.store,
        router=services.delivery_routing.router,
        metrics=metrics,
        public_url=settings.public_url,
        sealed_recipients=sealed_recipients,
        sealer=services.cipher,  # the waiting code, for a resend that sends it again
        protection=services.sms_protection,
    )
    reporting = EveryReportingConnector(services.connectors, services.delivery_routing)
    services.delivery_reports = DeliveryReports(reporting, message_store, utc_now, metrics=metrics)
    services.delivery_polling = DeliveryPolling(
        reporting,
        message_store,
        services.delivery_reports,
        [factory.id for factory in registry if factory.polls_delivery],
        utc_now,
        recipients=sealed_recipients,
    )
    services.pwned_passwords = (
        PwnedPasswords(services.http_client, settings.pwned_passwords_url)
        if settings.pwned_passwords_url
        else None
    )
    services.account = Account(
        records=SqlVerificationRecordStore(database),
        users=services.users,
        codes=services.codes,
        sign_in_experience=services.sign_in_experience,
        pwned=services.pwned_passwords,
    )
    services.organizations = Organizations(
        store=SqlOrganizationStore(database), users=services.users, codes=services.codes
    )
    services.interaction_cookie_key = derive_key(master, "interaction-cookie")
    services.interactions = Interactions(SqlInteractionStore(database), clock=utc_now)
    services.experience = Experience(
        interactions=services.interactions,
        tenants=services.tenants,
        users=services.users,
        sessions=services.sessions,
        sign_in_experience=services.sign_in_experience,
        codes=services.codes,
        pwned=services.pwned_passwords,
    )
    services.applications = Applications(SqlApplicationStore(database), clock=utc_now)
    services.oidc_tokens = OidcTokens(
        services.sessions, settings.resolved_public_url, settings.management_api_resource, utc_now
    )
    services.oidc_store = SqlOidcStore(database)
    services.api_resources = ApiResources(
        SqlApiResourceStore(database), services.oidc_tokens.management_resource, clock=utc_now
    )
    services.oidc_resources = services.api_resources
    services.management_callers = ManagementCallers(
        services.admin_keys, services.oidc_tokens, services.applications
    )
    services.console = ConsoleAdmins(
        SqlConsoleAdminStore(database), derive_key(master, "console-session")
    )
    await services.tenants.ensure_default()
    first_key = await services.admin_keys.bootstrap()
    if first_key is not None:
        sys.stdout.write(
            "\n  phoneauth first start: your Management API key (shown once, keep it):\n"
            f"    {first_key}\n"
            "  Send it as `Authorization: Bearer <key>`; `phoneauth admin create-key` makes more.\n"
            "\n"
        )
        sys.stdout.flush()
    await _announce_console_setup(services)
    return services


async def _announce_console_setup(services: Services) -> None:
    """While the console has no admin: print its setup token once, when it is made (the one
    secret printed on purpose, like the first key above); later starts only say how to get one."""
    setup = services.console.setup_tokens
    token = await setup.at_first_start()
    setup_url = f"{services.settings.resolved_public_url}/console/setup"
    if token is not None:
        sys.stdout.write(
            "\n  phoneauth first start: the console's one-time setup token (creates its first "
            "admin):\n"
            f"    {token}\n"
            f"  Open {setup_url} and enter it; `phoneauth admin setup-token` prints a new one.\n"
            "\n"
        )
        sys.stdout.flush()
    elif await services.console.needs_first_admin():
        log.info(
            "the console has no admin yet: create it at %s with the setup token printed at the "
            "first start, or a new one from `phoneauth admin setup-token`",
            setup_url,
        )
