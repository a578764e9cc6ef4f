"""Console admins (Argon2id hashes), their browser sessions (token hashes only) and the one-time
setup token of the first admin (its hash only)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class ConsoleAdminRow(Base):
    __tablename__ = "console_admins"

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ConsoleSessionRow(Base):
    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    admin_id: Mapped[str] = mapped_column(
        ForeignKey("console_admins.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    # No foreign key: a deleted tenant leaves the console on the default one, not signed out.
    tenant_id: Mapped[str] = mapped_column(String(21))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class ConsoleSetupTokenRow(Base):
    """At most one row (a fixed id): the token that creates the first admin, deleted by it."""

    __tablename__ = "console_setup_tokens"

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
