"""The SQLite connection settings every pooled connection gets."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from phoneauth.storage.engine import create_engine


async def test_sqlite_connections_use_wal_without_an_fsync_per_commit(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'phoneauth.db'}")
    try:
        async with engine.connect() as connection:
            pragmas = {
                name: (await connection.execute(text(f"PRAGMA {name}"))).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    finally:
        await engine.dispose()
    # synchronous 1 = NORMAL: in WAL mode durable against crashes of the process, not power cuts.
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 5000,
        "foreign_keys": 1,
    }
