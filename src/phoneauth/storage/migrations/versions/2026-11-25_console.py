"""console admins and sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import phoneauth.storage.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_admins",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_admins")),
        sa.UniqueConstraint("username", name=op.f("uq_console_admins_username")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("admin_id", sa.String(length=21), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            ["console_admins.id"],
            name=op.f("fk_console_sessions_admin_id_console_admins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_console_sessions_admin_id"), ["admin_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_console_sessions_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_expires_at"))
        batch_op.drop_index(batch_op.f("ix_console_sessions_admin_id"))
    op.drop_table("console_sessions")
    op.drop_table("console_admins")
