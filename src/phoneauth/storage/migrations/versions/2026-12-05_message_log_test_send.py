"""message log: mark connector test sends

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 00:30:00.000000

A test send (console "Send test", `POST /api/connectors/{id}/test`) is logged like any send,
marked so that the log and the connectors page tell it apart from a code sent to a user.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(
            sa.Column("test_send", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("message_log") as batch:
        batch.drop_column("test_send")
