"""change_versions (moved by triggers on the cached tables) and one live code per phone and use

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 18:40:00.000000

Every process caches tenants, admin keys, active connectors and sign-in experiences, and
checks one counter to know whether its cache still holds: triggers move the counter on any
change to those tables, whoever makes it (another worker, another instance, a hand-written
UPDATE). The unique partial index lets a new code replace the waiting one in one statement.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

WATCHED = ("tenants", "admin_keys", "connectors", "sign_in_experiences")
LIVE = ("tenant_id", "phone", "usage_type", "scope")


def upgrade() -> None:
    op.create_table(
        "change_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_versions")),
    )
    op.execute("INSERT INTO change_versions (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for action in ("INSERT", "UPDATE", "DELETE"):
                trigger = f"{table}_{action.lower()}_moves_version"
                body = "UPDATE change_versions SET version = version + 1 WHERE id = 1;"
                op.execute(f"CREATE TRIGGER {trigger} AFTER {action} ON {table} BEGIN {body} END")
    else:
        op.execute(
            "CREATE FUNCTION phoneauth_move_change_version() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN UPDATE change_versions SET version = version + 1 WHERE id = 1; "
            "RETURN NULL; END $$"
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_moves_version AFTER INSERT OR UPDATE OR DELETE OR "
                f"TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION phoneauth_move_change_version()"
            )
    # At most one waiting code per (tenant, phone, usage, scope): keep the newest.
    op.execute(
        "DELETE FROM verification_codes WHERE consumed_at IS NULL AND EXISTS ("
        "SELECT 1 FROM verification_codes AS newer WHERE newer.consumed_at IS NULL "
        "AND newer.tenant_id = verification_codes.tenant_id "
        "AND newer.phone = verification_codes.phone "
        "AND newer.usage_type = verification_codes.usage_type "
        "AND newer.scope = verification_codes.scope "
        "AND (newer.created_at > verification_codes.created_at OR "
        "(newer.created_at = verification_codes.created_at AND newer.id > verification_codes.id)))"
    )
    op.create_index(
        "uq_verification_codes_live",
        "verification_codes",
        list(LIVE),
        unique=True,
        sqlite_where=sa.text("consumed_at IS NULL"),
        postgresql_where=sa.text("consumed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_verification_codes_live", table_name="verification_codes")
    if op.get_bind().dialect.name == "sqlite":
        for table in WATCHED:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{action}_moves_version")
    else:
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_moves_version ON {table}")
        op.execute("DROP FUNCTION phoneauth_move_change_version()")
    op.drop_table("change_versions")
