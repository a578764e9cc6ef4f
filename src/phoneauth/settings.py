"""Process settings, read once from the environment (prefix PHONEAUTH_) and passed down."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TRUST_EVERY_PEER = "*"


class Settings(BaseSettings):
    """Every knob the README promises; build it in `create_app` or the CLI, never at import."""

    model_config = SettingsConfigDict(env_prefix="PHONEAUTH_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"), description="Where SQLite and generated keys live."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default: SQLite in the data folder."
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema for phoneauth's tables (default: public)."
    )
    secret_key: SecretStr | None = Field(default=None, description="Encrypts connector secrets.")
    redis_url: str | None = Field(default=None, description="Shared rate-limit counters.")
    host: str = "127.0.0.1"
    port: int = Field(default=3001, ge=1, le=65535)
    log_level: str = "INFO"
    http_timeout: float = Field(default=10.0, gt=0, description="Seconds one SMS send may take.")
    connector_allow_private_hosts: bool = Field(
        default=False,
        description="Let connectors send to loopback, private, link-local and other non-public "
        "addresses (a gateway on your own network, local fakes). Off: a connector's endpoint "
        "must resolve to public addresses only, so a tenant's admin cannot reach internal "
        "services through it.",
    )
    pwned_passwords_url: str = Field(
        default="https://api.pwnedpasswords.com/range/",
        description="Have I Been Pwned's k-anonymity range endpoint (the first five hex digits "
        "of a password's SHA-1 are appended), asked when the password policy rejects breached "
        "passwords (Logto's `rejects.pwned`, on by default). Empty: the check is skipped.",
    )
    public_url: str | None = Field(
        default=None,
        description="Where users reach the service, e.g. https://id.example.com; links in SMS "
        "(invitations) start with it. Default: http://<host>:<port>.",
    )
    management_api_resource: str = Field(
        default="https://{tenant_id}.logto.app/api",
        min_length=1,
        description="The resource indicator a machine-to-machine app asks a Management API "
        "token for (Logto's: https://default.logto.app/api for the default tenant); "
        "`{tenant_id}` is replaced by the tenant's id.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="The largest request body of the JSON APIs; a larger one is refused with "
        "413 request.body_too_large before it is read.",
    )
    max_form_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="The largest form the console accepts (connector configs with templates, "
        "tenant imports).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Serves Prometheus metrics at GET /metrics to a scraper that sends "
        "`Authorization: Bearer <this token>`. Unset (the default): nothing is counted and "
        "/metrics answers 404.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated IPs and networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto headers are believed; `*` trusts every peer. "
        "Default: none, the peer address is the client.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_addresses(cls, value: object) -> object:
        # uvicorn keeps an entry it cannot parse as a host name that no peer address ever
        # matches, so a typo would silently trust nobody: refuse it at start instead.
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list | tuple):
            return value
        entries = [str(entry).strip() for entry in value if str(entry).strip()]
        if entries == [TRUST_EVERY_PEER]:
            return (TRUST_EVERY_PEER,)
        proxies = []
        for entry in entries:
            try:
                network = ipaddress.ip_network(entry)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or network (like 10.0.0.0/8); "
                    "`*` alone trusts every peer"
                ) from None
            single = network.num_addresses == 1 and "/" not in entry
            proxies.append(str(network.network_address) if single else str(network))
        return tuple(proxies)

    @field_validator("metrics_token")
    @classmethod
    def _token_or_nothing(cls, value: SecretStr | None) -> SecretStr | None:
        # `PHONEAUTH_METRICS_TOKEN=` (empty) turns metrics off, as unset does: an empty bearer
        # token would let anyone read them.
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        # Checked here, so a wrong URL is one line at start, not a driver's traceback later.
        # `postgresql://` (as providers print it) and `sqlite:///` get the drivers phoneauth
        # ships with.
        if value is None or not value.strip():
            return None
        scheme, separator, rest = value.strip().partition("://")
        dialect, _, driver = scheme.lower().partition("+")
        if separator and dialect in ("postgresql", "postgres") and driver in ("", "asyncpg"):
            if rest.strip("/"):
                return f"postgresql+asyncpg://{rest}"
        elif separator and dialect == "sqlite" and driver in ("", "aiosqlite", "pysqlite"):
            path = rest.removeprefix("/")
            if path and not path.startswith(":memory:"):
                return f"sqlite+aiosqlite:///{path}"
        raise ValueError(
            "must be a PostgreSQL URL (postgresql://user:password@host:5432/database) or an "
            "SQLite file (sqlite:///path/to/phoneauth.db)"
        )

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        # Links built from it leave the service in SMS: only an absolute http(s) base will do.
        if not value:
            return None
        parts = urlsplit(value.strip())
        if (
            parts.scheme not in ("http", "https")
            or not parts.netloc
            or parts.query
            or parts.fragment
        ):
            raise ValueError("must be an absolute http(s) URL, e.g. https://id.example.com")
        return value.strip().rstrip("/")

    @property
    def resolved_public_url(self) -> str:
        """`public_url`, else where `phoneauth serve` listens (a wildcard host as localhost)."""
        if self.public_url:
            return self.public_url
        host = "localhost" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104 - compared, not bound
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'phoneauth.db').as_posix()}"
