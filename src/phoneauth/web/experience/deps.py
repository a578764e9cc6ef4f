"""The interaction cookie and what every Experience API route needs from the request.

The cookie carries only the tenant and the interaction id, signed (`signed_pairs`, with a key
derived from the master secret), so a client can neither forge an id nor carry one across
tenants; the state itself stays in the database.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response

from phoneauth.domain.interactions import (
    INTERACTION_TTL,
    Interaction,
    InteractionConflictError,
    InteractionNotFoundError,
)
from phoneauth.domain.sessions import SESSION_COOKIE, SESSION_TTL, IssuedSession
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.errors import PhoneauthError
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.errors import error_responses
from phoneauth.web.signed_pairs import SignedPairs, signed_pairs
from phoneauth.wiring import Services

INTERACTION_COOKIE = "phoneauth_interaction"
_SALT = "phoneauth.interaction-cookie"
_MAX_LOCALE = 35


def _signer(services: Services) -> SignedPairs:
    return signed_pairs(services.interaction_cookie_key, _SALT)


def interaction_id_from_cookie(request: Request, services: Services) -> str | None:
    """The interaction id if the cookie is intact and names this tenant, else None."""
    token = request.cookies.get(INTERACTION_COOKIE)
    if not token:
        return None
    pair = _signer(services).loads(token)
    if pair is None or pair[0] != tenant_id_of(request):
        return None
    return pair[1]


async def get_interaction(request: Request) -> Interaction:
    # Only the request: see `phoneauth.web.deps` on what each resolved dependency costs.
    services = services_of(request)
    tenant_id = tenant_id_of(request)
    await services.tenants.get(tenant_id)
    return await services.interactions.load(
        tenant_id, interaction_id_from_cookie(request, services)
    )


InteractionDep = Annotated[Interaction, Depends(get_interaction)]


def step_responses(*errors: type[PhoneauthError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers of a route that needs the interaction, plus its own codes."""
    return error_responses(
        InteractionNotFoundError, InteractionConflictError, TenantNotFoundError, *errors
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_interaction_cookie(
    response: Response, request: Request, services: Services, interaction: Interaction
) -> None:
    token = _signer(services).dumps(interaction.tenant_id, interaction.id)
    response.set_cookie(
        INTERACTION_COOKIE,
        token,
        max_age=int(INTERACTION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def clear_interaction_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        INTERACTION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )


def set_session_cookie(response: Response, request: Request, session: IssuedSession) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie_token,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def preferred_locale(request: Request) -> str | None:
    """The first `Accept-Language` tag, which picks the connector's localized template."""
    header = request.headers.get("accept-language", "")
    tag = header.split(",")[0].split(";")[0].strip()
    return tag if tag and tag != "*" and len(tag) <= _MAX_LOCALE else None


def tenant_home(request: Request) -> str:
    """Where a finished sign-in goes when the interaction named no `redirectTo`."""
    tenant_id = request.path_params.get("tenant_id")
    return f"/t/{tenant_id}/" if tenant_id else "/"
