"""End-user authentication for the Account API and pages: access token or session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from phoneauth.domain.sessions import SESSION_COOKIE, Principal
from phoneauth.web.deps import services_of, tenant_id_of


async def get_principal(request: Request) -> Principal:
    """The signed-in user: `Authorization: Bearer <access token>`, else the session cookie."""
    services = services_of(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return await services.sessions.authenticate(
        tenant_id_of(request), bearer=bearer or None, cookie=request.cookies.get(SESSION_COOKIE)
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]
