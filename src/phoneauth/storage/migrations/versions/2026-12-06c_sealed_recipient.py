"""The recipient's number, sealed, on message-log rows a status query needs it for (Aliyun)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:00:00.000000

One nullable column: rows written before keep NULL (nothing sealed, as for every provider but
Aliyun). The store clears it when a row is final or leaves the polling window, so a partial
index over the rows that still keep one makes that clearing cheap.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_KEEPS_ONE = sa.text("recipient_sealed IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(sa.Column("recipient_sealed", sa.Text(), nullable=True))
    op.create_index(
        "ix_message_log_recipient_sealed",
        "message_log",
        ["created_at"],
        sqlite_where=_KEEPS_ONE,
        postgresql_where=_KEEPS_ONE,
    )


def downgrade() -> None:
    op.drop_index("ix_message_log_recipient_sealed", table_name="message_log")
    with op.batch_alter_table("message_log") as batch:
        batch.drop_column("recipient_sealed")
