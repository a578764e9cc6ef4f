"""OpenID Connect: registered applications and their secrets, API resources, and the protocol's
server-side state (authorization requests waiting for a sign-in, codes, refresh tokens).

Secrets, codes and refresh tokens are stored as SHA-256 hashes only: each is 256 random bits, so a
fast hash is enough, and a database dump hands nobody a credential.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from phoneauth.storage.models.base import Base, UtcDateTime


class ApplicationRow(Base):
    """A client of the provider (Logto's application)."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    oidc_client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    custom_client_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    custom_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_third_party: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApplicationSecretRow(Base):
    """One named secret of a confidential application; only its hash is kept."""

    __tablename__ = "application_secrets"

    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The first characters, so an admin can tell secrets apart without seeing one.
    preview: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApplicationRoleRow(Base):
    """A role given to a machine-to-machine application (the Management API access role)."""

    __tablename__ = "application_roles"

    application_id: Mapped[str] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiResourceRow(Base):
    """An API an access token may be issued for (RFC 8707 `resource`, Logto's API resource)."""

    __tablename__ = "api_resources"
    __table_args__ = (
        Index("uq_api_resources_tenant_id_indicator", "tenant_id", "indicator", unique=True),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256))
    indicator: Mapped[str] = mapped_column(String(2048))
    access_token_ttl: Mapped[int] = mapped_column(Integer, default=3600, server_default="3600")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OidcAuthorizationRequestRow(Base):
    """An authorization request waiting while the user signs in (resumed at /oidc/auth/{uid})."""

    __tablename__ = "oidc_authorization_requests"
    __table_args__ = (Index("ix_oidc_authorization_requests_expires_at", "expires_at"),)

    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OidcAuthorizationCodeRow(Base):
    """An authorization code: single use, short-lived, bound to client, redirect URI and PKCE."""

    __tablename__ = "oidc_authorization_codes"
    __table_args__ = (
        Index("ix_oidc_authorization_codes_expires_at", "expires_at"),
        Index("ix_oidc_authorization_codes_family_id", "family_id"),
    )

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    # The tokens this code issues belong to this family: a reused code revokes them all.
    family_id: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Set when the family is revoked (the code was reused, or a token of it revoked): access
    # tokens of the family are refused at phoneauth's own endpoints from then on.
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OidcRefreshTokenRow(Base):
    """A refresh token; rotation marks it used, a second use revokes its whole family."""

    __tablename__ = "oidc_refresh_tokens"
    __table_args__ = (
        Index("ix_oidc_refresh_tokens_family_id", "family_id"),
        Index("ix_oidc_refresh_tokens_session_id", "session_id"),
        Index("ix_oidc_refresh_tokens_expires_at", "expires_at"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    family_id: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
