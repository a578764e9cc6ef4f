"""Delivery routing beside Logto's one active SMS connector: standby connectors and the rules
that choose among them (issue 15)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class SmsStandbyConnectorRow(Base):
    """A configured SMS connector that is not the active one: encrypted like it, used only by a
    route or the fallback order."""

    __tablename__ = "sms_standby_connectors"
    __table_args__ = (Index("ix_sms_standby_connectors_tenant", "tenant_id"),)

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    connector_id: Mapped[str] = mapped_column(String(128))  # the factory id, Logto's name
    config_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SmsRoutingRow(Base):
    """One tenant's rules as a JSON document (routes by country, fallback order, deadline,
    breaker settings): read whole on every send through a versioned cache."""

    __tablename__ = "sms_routing"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
