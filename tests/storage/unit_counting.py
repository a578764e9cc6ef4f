"""Counting the units a store hands to its database: how grouped reads and writes are told
apart from one unit per call."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from phoneauth.storage.database import Database


def count_units(
    monkeypatch: pytest.MonkeyPatch, database: Database, kind: Literal["read", "write"]
) -> list[object]:
    """From now on, every unit `database.read` (or `write`) runs is appended to the list."""
    units: list[object] = []
    run = getattr(database, kind)

    async def counted(unit: object, **options: Any) -> Any:
        units.append(unit)
        return await run(unit, **options)

    monkeypatch.setattr(database, kind, counted)
    return units
