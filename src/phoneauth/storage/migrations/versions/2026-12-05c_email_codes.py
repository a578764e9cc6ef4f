"""verification codes for email addresses: the recipient column takes an address

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 02:00:00.000000

A code's `phone` column becomes its recipient: an E.164 number or an email address (Logto's
`primary_email` is varchar(128), and `domain.emails` never accepts a longer address), and the
message log's masked recipient (`j***@example.com`) gets the same room. Only lengths change:
PostgreSQL alters the column types in place; SQLite rebuilds these two tables, which no other
table references or cascades from, so the codes waiting and the log survive both ways. The
partial unique index of waiting codes is dropped around the rebuild and made again as it was.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LIVE = ("tenant_id", "phone", "usage_type", "scope")


def _resize(recipient: int, masked: int) -> None:
    op.drop_index("uq_verification_codes_live", table_name="verification_codes")
    with op.batch_alter_table("verification_codes") as batch:
        batch.alter_column("phone", type_=sa.String(length=recipient), existing_nullable=False)
    op.create_index(
        "uq_verification_codes_live",
        "verification_codes",
        list(LIVE),
        unique=True,
        sqlite_where=sa.text("consumed_at IS NULL"),
        postgresql_where=sa.text("consumed_at IS NULL"),
    )
    with op.batch_alter_table("message_log") as batch:
        batch.alter_column("phone_masked", type_=sa.String(length=masked), existing_nullable=False)


def upgrade() -> None:
    _resize(128, 128)


def downgrade() -> None:
    # Codes for addresses cannot live in the narrow column, and no code before 0009 reads them.
    op.execute("DELETE FROM verification_codes WHERE phone LIKE '%@%'")
    op.execute("UPDATE message_log SET phone_masked = substr(phone_masked, 1, 32)")
    _resize(32, 32)
