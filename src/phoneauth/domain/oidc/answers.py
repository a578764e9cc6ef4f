"""What the OIDC provider answers the web layer, importable without Authlib.

The provider itself (and Authlib, ~3 MB of memory) is loaded on a process's first OIDC request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from phoneauth.errors import PhoneauthError

REQUEST_TTL = timedelta(hours=1)  # Logto's Interaction TTL


class AuthorizationRequestNotFoundError(PhoneauthError):
    """This sign-in request has expired or was already used: start again from the app."""

    code = "oidc.authorization_request_not_found"
    status = 404


@dataclass(frozen=True, slots=True)
class ProtocolAnswer:
    """An HTTP answer Authlib shaped: a redirect, or a JSON body in the RFC 6749 error form."""

    status: int
    body: Any
    headers: list[tuple[str, str]]

    @property
    def location(self) -> str | None:
        return dict(self.headers).get("Location")


@dataclass(frozen=True, slots=True)
class SignInNeeded:
    """Send the browser to the sign-in pages; `/oidc/auth/{uid}` continues afterwards."""

    uid: str
    first_screen: str  # "sign-in" or "register"
    application_id: str


@dataclass(frozen=True, slots=True)
class HttpCall:
    method: str
    uri: str
    authorization: str | None
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]


class EndSessionError(PhoneauthError):
    """The sign-out request names a redirect the client did not register."""

    code = "oidc.invalid_post_logout_redirect_uri"
    status = 400
