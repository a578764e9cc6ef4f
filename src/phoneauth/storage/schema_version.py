"""The schema revision this code expects, readable without importing Alembic.

Alembic and its templates cost 10 MB of resident memory in every server process, though a
process only needs them when the schema is behind. The start-up check reads the revision with a
plain query and compares it with `SCHEMA_HEAD`; a test keeps the constant equal to Alembic's
head, so a new migration without it fails the suite.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

SCHEMA_HEAD = "0013"


async def stored_revision(engine: AsyncEngine) -> str | None:
    """The revision recorded in the database; None for an empty database."""
    async with engine.connect() as connection:
        try:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            row = result.first()
        except DBAPIError:  # no alembic_version table yet
            return None
    return None if row is None else str(row[0])
