"""Process settings, read once from the environment (prefix PHONEAUTH_) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'phoneauth.db').as_posix()}"
