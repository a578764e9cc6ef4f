"""One row per send attempt: who, through what, the outcome. Never the code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class MessageLogRow(Base):
    __tablename__ = "message_log"
    __table_args__ = (
        Index("ix_message_log_tenant_created", "tenant_id", "created_at"),
        # A delivery report names the connector and the provider's message id (migration 0011).
        Index("ix_message_log_connector_message", "connector_id", "provider_message_id"),
        # The status pollers read recent messages still waiting for a final status.
        Index("ix_message_log_delivery_pending", "delivery_status", "created_at"),
        # Only the few rows that still keep a sealed recipient (migration 0012), for clearing:
        # partial, `WHERE recipient_sealed IS NOT NULL`, as the migration makes it (see the
        # live codes' index in `verification_codes` for why the model does not say so).
        Index(
            "ix_message_log_recipient_sealed",
            "created_at",
        ),
    )

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
    # Migration 0011 (issue 15): the attempts of one send share `send_id` and count `attempt`
    # from 1; `code_id` links them to the code; `country` is the recipient's ISO region.
    send_id: Mapped[str | None] = mapped_column(String(21))
    attempt: Mapped[int | None] = mapped_column(Integer)
    code_id: Mapped[str | None] = mapped_column(String(21))
    country: Mapped[str | None] = mapped_column(String(2))
    # What the provider reported after accepting: accepted, sent, delivered, undelivered,
    # failed; its own status or error code kept beside, and when it was last moved.
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_code: Mapped[str | None] = mapped_column(String(64))
    delivery_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivery_latency_ms: Mapped[int | None] = mapped_column(Integer)
    # Migration 0012 (issue 16): the SMS's alphabet (`GSM-7` or `UCS-2`), its parts and length.
    encoding: Mapped[str | None] = mapped_column(String(8))
    segments: Mapped[int | None] = mapped_column(Integer)
    characters: Mapped[int | None] = mapped_column(Integer)
    # Migration 0013: the full number, encrypted, for a provider whose status query needs it
    # (Aliyun); NULL again once the row is final or older than the polling window.
    recipient_sealed: Mapped[str | None] = mapped_column(Text)
