"""One row per send attempt: who, through what, the outcome. Never the code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class MessageLogRow(Base):
    __tablename__ = "message_log"
    __table_args__ = (Index("ix_message_log_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    connector_id: Mapped[str | None] = mapped_column(String(128))
    factory_id: Mapped[str | None] = mapped_column(String(128))
    usage_type: Mapped[str] = mapped_column(String(32))
    # The masked recipient: `+4915*****5678` or `j***@example.com` (migration 0009).
    phone_masked: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(256))
    error_code: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(String(1024))
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    test_send: Mapped[bool] = mapped_column(Boolean, server_default=false())
