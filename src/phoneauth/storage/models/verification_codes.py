"""Verification codes, to a phone number or an email address: only a keyed hash of the code
is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class VerificationCodeRow(Base):
    __tablename__ = "verification_codes"
    __table_args__ = (
        Index("ix_verification_codes_lookup", "tenant_id", "phone", "usage_type", "scope"),
        Index("ix_verification_codes_expires_at", "expires_at"),
        # One waiting code per phone, use and scope: a new code replaces it in one upsert. The
        # index is partial, `WHERE consumed_at IS NULL`, on both databases: the migrations make
        # it so (tests/storage/test_migrations.py checks). Not said here with `sqlite_where` and
        # `postgresql_where`: those load the PostgreSQL dialect, 2 MB, into an SQLite server
        # (`phoneauth.storage.dialects`); alembic does not compare an index's WHERE anyway.
        Index(
            "uq_verification_codes_live",
            "tenant_id",
            "phone",
            "usage_type",
            "scope",
            unique=True,
        ),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # The recipient: an E.164 number, or an email address's lower-cased key (migration 0009).
    phone: Mapped[str] = mapped_column(String(128))
    usage_type: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(128), default="")
    code_hash: Mapped[str] = mapped_column(String(64))
    try_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Migration 0012 (issue 16): the code encrypted while it waits, so a resend sends the same
    # one; how often it was sent and when last (every worker's resend cooldown).
    code_sealed: Mapped[str | None] = mapped_column(Text)
    send_count: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    last_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
