"""The sign-in experience of each tenant, as Logto's JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class SignInExperienceRow(Base):
    __tablename__ = "sign_in_experiences"

    tenant_id: Mapped[str] = mapped_column(
        String(21), ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
