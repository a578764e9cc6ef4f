"""Countries whose SMS sends are paused for a tenant (issue 16's conversion watch or an admin)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class SmsCountrySuspensionRow(Base):
    """One paused country: why (`reason`, a stable code; `details` in words), since when, and
    until when (None: until an admin resumes it)."""

    __tablename__ = "sms_country_suspensions"

    tenant_id: Mapped[str] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64))
    details: Mapped[str | None] = mapped_column(Text)
    suspended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime | None] = mapped_column(UtcDateTime)
