"""The cookie that ties a browser on the sign-in pages to the app's waiting authorization.

`/oidc/auth` sets it (signed: tenant and request uid); `submit` reads it to continue the
authorization; a sign-in page opened without `app_id` (not on the way from an app) clears it,
so an abandoned app sign-in cannot capture a later sign-in on phoneauth's own pages.
"""

from __future__ import annotations

from fastapi import Request, Response

from phoneauth.web.deps import tenant_id_of
from phoneauth.web.signed_pairs import signed_pairs
from phoneauth.wiring import Services

AUTHORIZATION_COOKIE = "phoneauth_oidc"
_SALT = "phoneauth.oidc-authorization"


def waiting_authorization(request: Request, services: Services) -> str | None:
    """The uid of the authorization request this browser is signing in for, if any."""
    token = request.cookies.get(AUTHORIZATION_COOKIE)
    if not token:
        return None
    pair = signed_pairs(services.interaction_cookie_key, _SALT).loads(token)
    if pair is None or pair[0] != tenant_id_of(request):
        return None
    return pair[1]


def resume_url(services: Services, tenant_id: str, uid: str) -> str:
    """Where a finished sign-in continues the authorization (Logto's `<issuer>/auth/<uid>`)."""
    return f"{services.oidc_tokens.issuer(tenant_id)}/auth/{uid}"


def set_authorization_cookie(
    response: Response, request: Request, services: Services, tenant_id: str, uid: str, ttl: int
) -> None:
    response.set_cookie(
        AUTHORIZATION_COOKIE,
        signed_pairs(services.interaction_cookie_key, _SALT).dumps(tenant_id, uid),
        max_age=ttl,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_authorization_cookie(response: Response) -> None:
    response.delete_cookie(AUTHORIZATION_COOKIE, path="/")
