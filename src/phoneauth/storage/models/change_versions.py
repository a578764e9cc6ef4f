"""One counter that every change to the cached configuration tables moves (by trigger)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base


class ChangeVersionRow(Base):
    __tablename__ = "change_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
