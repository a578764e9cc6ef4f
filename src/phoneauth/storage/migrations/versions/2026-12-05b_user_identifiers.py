"""users: email, name, avatar, custom data, suspension, last sign-in

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:00:00.000000

Logto's Management API user: `primaryEmail` (unique per tenant without regard to case, through
`primary_email_key`), `name`, `avatar`, `customData`, `isSuspended` and `lastSignInAt`. Columns
are only added (with defaults for the rows there are) and the email's uniqueness is a unique
index, so SQLite needs no table rebuild, which would cascade-delete the users' sessions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import phoneauth.storage.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("primary_email", sa.String(length=128), nullable=True))
    op.add_column("users", sa.Column("primary_email_key", sa.String(length=128), nullable=True))
    op.add_column("users", sa.Column("name", sa.String(length=128), nullable=True))
    op.add_column("users", sa.Column("avatar", sa.String(length=2048), nullable=True))
    op.add_column(
        "users",
        sa.Column("custom_data", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
    )
    op.add_column(
        "users", sa.Column("is_suspended", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column(
        "users",
        sa.Column(
            "last_sign_in_at",
            phoneauth.storage.models.base.UtcDateTime(timezone=True),
            nullable=True,
        ),
    )
    op.create_index(
        "uq_users_tenant_id_primary_email_key",
        "users",
        ["tenant_id", "primary_email_key"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_users_tenant_id_primary_email_key", table_name="users")
    for column in (
        "last_sign_in_at",
        "is_suspended",
        "custom_data",
        "avatar",
        "name",
        "primary_email_key",
        "primary_email",
    ):
        op.drop_column("users", column)
