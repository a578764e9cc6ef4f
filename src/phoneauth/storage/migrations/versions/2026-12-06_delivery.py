"""Delivery you can trust: standby SMS connectors, routing rules, and per-attempt delivery
columns on the message log

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 03:40:00.000000

New tables (watched by the change counter like `connectors`, so every worker's cache of them
holds only until one changes) and nullable columns on `message_log`: rows written before keep
NULL, which every reader takes as "not known".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import phoneauth.storage.models.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WATCHED = ("sms_standby_connectors", "sms_routing")
_UTC = phoneauth.storage.models.base.UtcDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sms_standby_connectors",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("connector_id", sa.String(length=128), nullable=False),
        sa.Column("config_encrypted", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sms_standby_connectors_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_standby_connectors")),
    )
    op.create_index("ix_sms_standby_connectors_tenant", "sms_standby_connectors", ["tenant_id"])
    op.create_table(
        "sms_routing",
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sms_routing_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_sms_routing")),
    )
    with op.batch_alter_table("message_log") as batch:
        batch.add_column(sa.Column("send_id", sa.String(length=21), nullable=True))
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("code_id", sa.String(length=21), nullable=True))
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("delivery_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("delivery_updated_at", _UTC, nullable=True))
        batch.add_column(sa.Column("delivery_latency_ms", sa.Integer(), nullable=True))
    op.create_index(
        "ix_message_log_connector_message", "message_log", ["connector_id", "provider_message_id"]
    )
    op.create_index(
        "ix_message_log_delivery_pending", "message_log", ["delivery_status", "created_at"]
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
    op.drop_index("ix_message_log_delivery_pending", table_name="message_log")
    op.drop_index("ix_message_log_connector_message", table_name="message_log")
    with op.batch_alter_table("message_log") as batch:
        for column in (
            "delivery_latency_ms",
            "delivery_updated_at",
            "delivery_code",
            "delivery_status",
            "country",
            "code_id",
            "attempt",
            "send_id",
        ):
            batch.drop_column(column)
    op.drop_table("sms_routing")
    op.drop_index("ix_sms_standby_connectors_tenant", table_name="sms_standby_connectors")
    op.drop_table("sms_standby_connectors")
