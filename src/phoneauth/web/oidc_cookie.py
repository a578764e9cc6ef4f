"""The cookie that ties a browser on the sign-in pages to the app's waiting authorization.

`/oidc/auth` sets it (signed: tenant and request uid); `submit` reads it to continue the
authorization; a sign-in page opened without `app_id` (not on the way from an app) clears it,
so an abandoned app sign-in cannot capture a later sign-in on phoneauth's own pages.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

from phoneauth.web.deps import tenant_id_of
from phoneauth.wiring import Services

AUTHORIZATION_COOKIE = "phoneauth_oidc"
_SALT = "phoneauth.oidc-authorization"


@lru_cache(maxsize=8)
def _serializer(key: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt=_SALT)


def waiting_authorization(request: Request, services: Services) -> str | None:
    """The uid of the authorization request this browser is signing in for, if any."""
    token = request.cookies.get(AUTHORIZATION_COOKIE)
    if not token:
        return None
    try:
        value = _serializer(services.interaction_cookie_key).loads(token)
    except BadSignature:
        return None
    match value:
        case [str(tenant_id), str(uid)] if tenant_id == tenant_id_of(request):
            return uid
        case _:
            return None


def resume_url(services: Services, tenant_id: str, uid: str) -> str:
    """Where a finished sign-in continues the authorization (Logto's `<issuer>/auth/<uid>`)."""
    return f"{services.oidc_tokens.issuer(tenant_id)}/auth/{uid}"


def set_authorization_cookie(
    response: Response, request: Request, services: Services, tenant_id: str, uid: str, ttl: int
) -> None:
    response.set_cookie(
        AUTHORIZATION_COOKIE,
        _serializer(services.interaction_cookie_key).dumps([tenant_id, uid]),
        max_age=ttl,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def clear_authorization_cookie(response: Response) -> None:
    response.delete_cookie(AUTHORIZATION_COOKIE, path="/")
