"""Absolute links to the end-user pages, for messages that leave the service (an SMS).

A page inside the app links relatively; a text on a phone needs the whole URL, so the base is the
`PHONEAUTH_PUBLIC_URL` setting (never the request's Host header, which a caller controls).
"""

from __future__ import annotations

from urllib.parse import quote

from phoneauth.domain.organizations import Invitation
from phoneauth.domain.tenants import DEFAULT_TENANT_ID
from phoneauth.settings import Settings


def page_url(settings: Settings, tenant_id: str, path: str) -> str:
    """`https://id.example.com/sign-in`; other tenants' pages under `/t/{tenant_id}`."""
    prefix = "" if tenant_id == DEFAULT_TENANT_ID else f"/t/{quote(tenant_id, safe='')}"
    return f"{settings.resolved_public_url}{prefix}{path}"


def invitation_url(settings: Settings, invitation: Invitation) -> str:
    """The page where the invitee types the code from the SMS."""
    return page_url(settings, invitation.tenant_id, f"/invitations/{quote(invitation.id, safe='')}")
