"""The OpenID Connect provider's HTTP face, on Logto's paths (`/oidc/...`, per tenant too).

`/oidc/auth` hands over to the sign-in pages with a signed cookie naming the waiting request;
`POST /api/experience/submit` then answers `redirectTo: <issuer>/auth/<uid>`, which issues the
code (see `phoneauth.domain.oidc.provider`). Protocol errors use RFC 6749's
`{error, error_description}` form; a browser that cannot be sent back to the app gets a page.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote, urlencode

import jwt
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from phoneauth.domain.oidc.answers import (
    REQUEST_TTL,
    AuthorizationRequestNotFoundError,
    EndSessionError,
    HttpCall,
    ProtocolAnswer,
    SignInNeeded,
)
from phoneauth.domain.oidc.tokens import InvalidTokenError
from phoneauth.domain.sessions import SESSION_COOKIE, StoredSession
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.errors import UnstorableTextError
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.errors import error_responses
from phoneauth.web.oidc_cookie import (
    clear_authorization_cookie,
    set_authorization_cookie,
)
from phoneauth.web.pages import PageRoute, message_page, tenant_prefix
from phoneauth.wiring import Services

router = APIRouter(tags=["oidc"])

# --- what the document says each endpoint answers ---------------------------------------------
# The endpoints a browser is sent through answer pages (`PageRoute`); the others RFC 6749's error
# form, and an unknown tenant the error envelope, as every route.


def _page(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _oauth_error(description: str) -> dict[str, Any]:
    body = {
        "type": "object",
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        "required": ["error"],
    }
    return {"description": description, "content": {"application/json": {"schema": body}}}


_NO_TENANT = error_responses(TenantNotFoundError)[404]
_PAGES: dict[int | str, dict[str, Any]] = {
    400: _page("A page: the request names no known app or an unregistered redirect URI."),
    404: _page("A page: no tenant at this address, or (a sign-in's uid) it has expired."),
    503: _page("A page: the database cannot be reached; `Retry-After` says when to try again."),
}
_CLIENT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _oauth_error("RFC 6749 `{error, error_description}`."),
    401: _oauth_error("RFC 6749 `invalid_client`: the client's credentials are wrong."),
    404: _NO_TENANT,
}

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _call(request: Request, form: list[tuple[str, str]] | None = None) -> HttpCall:
    return HttpCall(
        method=request.method,
        uri=str(request.url),
        authorization=request.headers.get("authorization"),
        query=list(request.query_params.multi_items()),
        form=form or [],
    )


async def _form(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return []
    form = await request.form()
    return [(key, value) for key, value in form.multi_items() if isinstance(value, str)]


async def _session(request: Request, services: Services, tenant_id: str) -> StoredSession | None:
    return await services.sessions.from_cookie(tenant_id, request.cookies.get(SESSION_COOKIE))


def _answer(answer: ProtocolAnswer) -> Response:
    headers = dict(answer.headers)
    if answer.location is not None:
        return RedirectResponse(answer.location, status_code=303, headers=NO_STORE)
    headers.pop("Content-Type", None)
    return JSONResponse(answer.body, status_code=answer.status, headers=headers | NO_STORE)


async def _to_sign_in(
    request: Request, services: Services, tenant_id: str, needed: SignInNeeded
) -> Response:
    path = "/register" if needed.first_screen == "register" else "/sign-in"
    response = RedirectResponse(
        f"{tenant_prefix(request)}{path}?app_id={needed.application_id}",
        status_code=303,
        headers=NO_STORE,
    )
    set_authorization_cookie(
        response,
        request,
        services,
        tenant_id,
        needed.uid,
        int(REQUEST_TTL.total_seconds()),
    )
    return response


async def _browser_error(request: Request, services: Services, answer: ProtocolAnswer) -> Response:
    """An error the app cannot be told about (no valid client or redirect URI): a page."""
    description = ""
    if isinstance(answer.body, dict):
        description = str(answer.body.get("error_description") or answer.body.get("error", ""))
    return await message_page(
        request,
        services,
        "This sign-in link does not work",
        "The app that sent you here asked for something this service does not allow"
        + (f": {description}" if description else ".")
        + " Go back to the app and try again, or tell its developers.",
        status_code=400,
    )


# --- CORS for browser apps (SPAs) ---------------------------------------------------------------
# Discovery and keys are public: any origin. The token, revocation and userinfo endpoints answer
# a browser only from an origin of the calling app (its redirect URIs, `corsAllowedOrigins`); the
# preflight cannot name the app (no body), so it is answered for any origin, without credentials.

PUBLIC_CORS = {"Access-Control-Allow-Origin": "*"}


def _client_id_of(form: list[tuple[str, str]], authorization: str | None) -> str | None:
    for key, value in form:
        if key == "client_id":
            return value
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        return unquote(decoded.partition(":")[0]) or None
    return None


async def _with_cors(
    request: Request, services: Services, tenant_id: str, client_id: str | None, response: Response
) -> Response:
    origin = request.headers.get("origin")
    if origin and await services.oidc.allows_origin(tenant_id, client_id, origin):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


async def preflight(request: Request) -> Response:
    headers = {
        "Access-Control-Allow-Origin": request.headers.get("origin", "*"),
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }
    return Response(status_code=204, headers=headers)


for _path in ("/oidc/token", "/oidc/token/revocation", "/oidc/me"):
    router.add_api_route(_path, preflight, methods=["OPTIONS"], include_in_schema=False)


@router.get(
    "/oidc/.well-known/openid-configuration",
    summary="OpenID Connect discovery",
    responses=error_responses(TenantNotFoundError),
)
async def discovery(request: Request) -> JSONResponse:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    return JSONResponse(services.oidc.discovery(tenant.id), headers=PUBLIC_CORS)


@router.get(
    "/oidc/jwks",
    summary="Public keys that verify this tenant's tokens",
    responses={404: _NO_TENANT},
)
async def jwks(request: Request) -> JSONResponse:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    return JSONResponse(await services.sessions.jwks(tenant.id), headers=PUBLIC_CORS)


async def authorize(request: Request) -> Response:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    session = await _session(request, services, tenant.id)
    outcome = await services.oidc.authorize(tenant.id, _call(request), session)
    if isinstance(outcome, SignInNeeded):
        return await _to_sign_in(request, services, tenant.id, outcome)
    if outcome.location is None:
        return await _browser_error(request, services, outcome)
    return _answer(outcome)


# Pages a browser is sent through (`PageRoute`: an error is a page in words), in the order
# the OpenAPI document lists them; `add_api_route` is what takes a route class per route.
router.add_api_route(
    "/oidc/auth",
    authorize,
    methods=["GET"],
    summary="Authorization endpoint (code flow with PKCE)",
    response_class=Response,
    responses={
        303: {"description": "To the app's redirect URI, or to the sign-in pages."},
        **_PAGES,
    },
    route_class_override=PageRoute,
)


async def resume(uid: str, request: Request) -> Response:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    session = await _session(request, services, tenant.id)
    try:
        outcome = await services.oidc.resume(tenant.id, uid, str(request.url), session)
    except (AuthorizationRequestNotFoundError, UnstorableTextError):  # a NUL names none either
        return await message_page(
            request,
            services,
            "This sign-in has expired",
            "Go back to the app and start signing in again.",
            status_code=404,
        )
    if isinstance(outcome, SignInNeeded):
        return await _to_sign_in(request, services, tenant.id, outcome)
    if outcome.location is None:
        return await _browser_error(request, services, outcome)
    response = _answer(outcome)
    clear_authorization_cookie(response)
    return response


router.add_api_route(
    "/oidc/auth/{uid}",
    resume,
    methods=["GET"],
    summary="Continue an authorization after the sign-in",
    response_class=Response,
    responses={303: {"description": "To the app's redirect URI with the code."}, **_PAGES},
    route_class_override=PageRoute,
)


@router.post(
    "/oidc/token",
    summary="Token endpoint: authorization_code, refresh_token, client_credentials",
    responses=_CLIENT_ERRORS,
)
async def token(request: Request) -> Response:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    form = await _form(request)
    answer = await services.oidc.token(tenant.id, _call(request, form))
    client_id = _client_id_of(form, request.headers.get("authorization"))
    return await _with_cors(request, services, tenant.id, client_id, _answer(answer))


@router.post(
    "/oidc/token/revocation",
    summary="Revoke a refresh token (RFC 7009)",
    responses=_CLIENT_ERRORS,
)
async def revocation(request: Request) -> Response:
    services = services_of(request)
    tenant = await services.tenants.get(tenant_id_of(request))
    form = await _form(request)
    answer = await services.oidc.revoke(tenant.id, _call(request, form))
    response = Response(status_code=200, headers=NO_STORE) if answer.status == 200 else None
    client_id = _client_id_of(form, request.headers.get("authorization"))
    return await _with_cors(request, services, tenant.id, client_id, response or _answer(answer))


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


_USERINFO = "UserInfo: the signed-in user's claims for the token's scopes"
_USERINFO_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _oauth_error('`invalid_token`, also in `WWW-Authenticate: Bearer error="invalid_token"`.'),
    404: _NO_TENANT,
}


@router.get("/oidc/me", summary=_USERINFO, responses=_USERINFO_ERRORS)
async def userinfo_get(request: Request) -> Response:
    services = services_of(request)
    return await userinfo(request, services)


@router.post("/oidc/me", summary=_USERINFO, responses=_USERINFO_ERRORS)
async def userinfo_post(request: Request) -> Response:
    services = services_of(request)
    return await userinfo(request, services)


async def userinfo(request: Request, services: Services) -> Response:
    tenant = await services.tenants.get(tenant_id_of(request))
    access_token = _bearer(request)
    try:
        if access_token is None:
            raise InvalidTokenError("Send the access token: Authorization: Bearer <token>.")
        claims = await services.oidc.userinfo(tenant.id, access_token)
    except InvalidTokenError as error:
        description = error.message.replace('"', "'")
        return JSONResponse(
            {"error": "invalid_token", "error_description": description},
            status_code=401,
            headers={
                "WWW-Authenticate": f'Bearer error="invalid_token", '
                f'error_description="{description}"',
                **NO_STORE,
            },
        )
    # The token was verified above: its client_id names the app whose origins may read this.
    client_id = jwt.decode(access_token, options={"verify_signature": False}).get("client_id")
    response = JSONResponse(claims, headers=NO_STORE)
    return await _with_cors(request, services, tenant.id, client_id, response)


_END_SESSION = "Sign out (RP-initiated logout), then back to a registered post-logout URI"


async def end_session_get(request: Request) -> Response:
    services = services_of(request)
    return await end_session(request, services)


async def end_session_post(request: Request) -> Response:
    services = services_of(request)
    return await end_session(request, services)


for _method, _endpoint in (("GET", end_session_get), ("POST", end_session_post)):
    router.add_api_route(
        "/oidc/session/end",
        _endpoint,
        methods=[_method],
        summary=_END_SESSION,
        response_class=Response,
        responses={
            200: _page("A page: signed out."),
            303: {"description": "To the app's post-logout redirect URI."},
            **_PAGES,
        },
        route_class_override=PageRoute,
    )


async def end_session(request: Request, services: Services) -> Response:
    tenant = await services.tenants.get(tenant_id_of(request))
    data = dict(request.query_params) | dict(await _form(request))
    client_id = data.get("client_id")
    if not client_id and data.get("id_token_hint"):
        client_id = await services.oidc.client_of_id_token(tenant.id, data["id_token_hint"])
    session = await _session(request, services, tenant.id)
    try:
        target = await services.oidc.end_session(
            tenant.id,
            session=session,
            client_id=client_id,
            post_logout_redirect_uri=data.get("post_logout_redirect_uri"),
        )
    except EndSessionError as error:
        return await message_page(
            request,
            services,
            "You could not be signed out here",
            f"{error.message} Go back to the app and sign out again.",
            status_code=400,
        )
    if target is None:
        response: Response = await message_page(
            request, services, "You are signed out", "You can close this window."
        )
    else:
        state = data.get("state")
        separator = "&" if "?" in target else "?"
        location = f"{target}{separator}{urlencode({'state': state})}" if state else target
        response = RedirectResponse(location, status_code=303, headers=NO_STORE)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
