"""console setup token

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:30:00.000000

The first console admin needs a one-time token printed at the first start. Its hash lives in the
database (one row at most), so it survives restarts and every worker and instance checks the
same one; creating the first admin deletes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import phoneauth.storage.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_setup_tokens",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_setup_tokens")),
    )


def downgrade() -> None:
    op.drop_table("console_setup_tokens")
