"""OpenID Connect: applications, their secrets and roles, API resources, authorization requests,
codes and refresh tokens

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 23:51:18.599757

New tables only; nothing existing changes. Codes and refresh tokens cascade away with their user,
session or application, so deleting any of them ends what it issued.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import phoneauth.storage.models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_resources",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("indicator", sa.String(length=2048), nullable=False),
        sa.Column("access_token_ttl", sa.Integer(), server_default="3600", nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_resources_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_resources")),
    )
    with op.batch_alter_table("api_resources", schema=None) as batch_op:
        batch_op.create_index(
            "uq_api_resources_tenant_id_indicator", ["tenant_id", "indicator"], unique=True
        )

    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("oidc_client_metadata", sa.JSON(), nullable=False),
        sa.Column("custom_client_metadata", sa.JSON(), nullable=False),
        sa.Column("custom_data", sa.JSON(), nullable=False),
        sa.Column("is_third_party", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_applications_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "application_roles",
        sa.Column("application_id", sa.String(length=21), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_roles_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_application_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", "role_id", name=op.f("pk_application_roles")),
    )
    op.create_table(
        "application_secrets",
        sa.Column("application_id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("preview", sa.String(length=8), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_secrets_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_application_secrets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", "name", name=op.f("pk_application_secrets")),
    )
    op.create_table(
        "oidc_authorization_requests",
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("application_id", sa.String(length=21), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_oidc_authorization_requests_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_oidc_authorization_requests_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_oidc_authorization_requests")),
    )
    with op.batch_alter_table("oidc_authorization_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oidc_authorization_requests_expires_at", ["expires_at"], unique=False
        )

    op.create_table(
        "oidc_authorization_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("application_id", sa.String(length=21), nullable=False),
        sa.Column("user_id", sa.String(length=21), nullable=False),
        sa.Column("session_id", sa.String(length=21), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column(
            "auth_time", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "used_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "revoked_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_oidc_authorization_codes_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_oidc_authorization_codes_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_oidc_authorization_codes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_authorization_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_oidc_authorization_codes")),
    )
    with op.batch_alter_table("oidc_authorization_codes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oidc_authorization_codes_expires_at", ["expires_at"], unique=False
        )
        batch_op.create_index("ix_oidc_authorization_codes_family_id", ["family_id"], unique=False)

    op.create_table(
        "oidc_refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=21), nullable=False),
        sa.Column("application_id", sa.String(length=21), nullable=False),
        sa.Column("user_id", sa.String(length=21), nullable=False),
        sa.Column("session_id", sa.String(length=21), nullable=False),
        sa.Column("family_id", sa.String(length=32), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column(
            "auth_time", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "created_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "expires_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "used_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "revoked_at", phoneauth.storage.models.base.UtcDateTime(timezone=True), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_oidc_refresh_tokens_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_oidc_refresh_tokens_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_oidc_refresh_tokens_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_oidc_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_oidc_refresh_tokens")),
    )
    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_oidc_refresh_tokens_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_oidc_refresh_tokens_family_id", ["family_id"], unique=False)
        batch_op.create_index("ix_oidc_refresh_tokens_session_id", ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oidc_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_refresh_tokens_session_id")
        batch_op.drop_index("ix_oidc_refresh_tokens_family_id")
        batch_op.drop_index("ix_oidc_refresh_tokens_expires_at")

    op.drop_table("oidc_refresh_tokens")
    with op.batch_alter_table("oidc_authorization_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_authorization_codes_family_id")
        batch_op.drop_index("ix_oidc_authorization_codes_expires_at")

    op.drop_table("oidc_authorization_codes")
    with op.batch_alter_table("oidc_authorization_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_oidc_authorization_requests_expires_at")

    op.drop_table("oidc_authorization_requests")
    op.drop_table("application_secrets")
    op.drop_table("application_roles")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_tenant_id"))

    op.drop_table("applications")
    with op.batch_alter_table("api_resources", schema=None) as batch_op:
        batch_op.drop_index("uq_api_resources_tenant_id_indicator")

    op.drop_table("api_resources")
