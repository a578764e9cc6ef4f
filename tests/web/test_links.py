"""Absolute links to the end-user pages, as SMS carry them: the base comes from the settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from phoneauth.domain.organizations import Invitation, InvitationStatus
from phoneauth.settings import Settings
from phoneauth.web.links import invitation_url, page_url

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def invitation(tenant_id: str = "default", invitation_id: str = "abc123") -> Invitation:
    return Invitation(
        invitation_id,
        tenant_id,
        "org",
        "+4915112345678",
        InvitationStatus.PENDING,
        None,
        NOW,
        NOW,
        NOW,
    )


def test_without_a_public_url_links_point_where_the_service_listens() -> None:
    assert page_url(Settings(), "default", "/sign-in") == "http://127.0.0.1:3001/sign-in"
    everywhere = Settings(host="0.0.0.0", port=8080)
    assert page_url(everywhere, "default", "/sign-in") == "http://localhost:8080/sign-in"
    assert page_url(Settings(host="::1"), "default", "/x") == "http://[::1]:3001/x"


def test_the_public_url_wins_and_other_tenants_live_under_t() -> None:
    settings = Settings(public_url="https://id.example.com/")
    assert invitation_url(settings, invitation()) == "https://id.example.com/invitations/abc123"
    assert (
        invitation_url(settings, invitation("acme"))
        == "https://id.example.com/t/acme/invitations/abc123"
    )
    behind_a_path = Settings(public_url="https://example.com/auth")
    assert page_url(behind_a_path, "default", "/account") == "https://example.com/auth/account"


def test_the_public_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHONEAUTH_PUBLIC_URL", "https://login.example.org")
    assert Settings().resolved_public_url == "https://login.example.org"


@pytest.mark.parametrize(
    "value",
    [
        "id.example.com",
        "ftp://id.example.com",
        "https://",
        "https://x.com/?a=1",
        "https://x.com/#a",
    ],
)
def test_a_public_url_must_be_an_absolute_http_url(value: str) -> None:
    with pytest.raises(ValidationError, match="absolute http"):
        Settings(public_url=value)
