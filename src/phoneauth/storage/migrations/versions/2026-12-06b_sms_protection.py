"""SMS pumping defence, resend that keeps the code, messages that fit (issue 16)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:00:00.000000

- `verification_codes.code_sealed`: the waiting code encrypted with the service key, kept only
  while it waits so a resend can send the same code (cleared when consumed); `send_count` and
  `last_sent_at` give every worker the same resend cooldown and count.
- `message_log.encoding`, `segments`, `characters`: what each SMS cost in parts.
- `sms_country_suspensions`: countries whose sends the conversion watch (or an admin) paused,
  watched by the change counter so every worker's cache drops them at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import phoneauth.storage.models.base

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

WATCHED = ("sms_country_suspensions",)
_UTC = phoneauth.storage.models.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("verification_codes") as batch:
        batch.add_column(sa.Column("code_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("send_count", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("last_sent_at", _UTC, nullable=True))
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(sa.Column("encoding", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("characters", sa.Integer(), nullable=True))
    op.create_table(
        "sms_country_suspensions",
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("suspended_at", _UTC, nullable=False),
        sa.Column("until", _UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sms_country_suspensions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "country", name=op.f("pk_sms_country_suspensions")),
    )
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for action in ("INSERT", "UPDATE", "DELETE"):
                trigger = f"{table}_{action.lower()}_moves_version"
                body = "UPDATE change_versions SET version = version + 1 WHERE id = 1;"
                op.execute(f"CREATE TRIGGER {trigger} AFTER {action} ON {table} BEGIN {body} END")
    else:
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_moves_version AFTER INSERT OR UPDATE OR DELETE OR "
                f"TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION phoneauth_move_change_version()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{action}_moves_version")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_moves_version ON {table}")
    op.drop_table("sms_country_suspensions")
    with op.batch_alter_table("message_log") as batch:
        for column in ("characters", "segments", "encoding"):
            batch.drop_column(column)
    with op.batch_alter_table("verification_codes") as batch:
        for column in ("last_sent_at", "send_count", "code_sealed"):
            batch.drop_column(column)
