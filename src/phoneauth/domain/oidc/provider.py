"""The OpenID Connect provider: authorization, token, revocation, userinfo and end-session.

Each protocol request builds an Authlib `Server` for its tenant and runs it in a worker thread
(Authlib is synchronous); the hooks below reach the stores on the event loop. Codes and refresh
tokens are single use: the one request that marks one used (atomically, in the store) gets the
tokens; any other use is a replay and revokes the whole grant ("family"): its refresh tokens, and
its access tokens at phoneauth's own endpoints.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError, OAuth2Error

from phoneauth.domain.applications import (
    MANAGEMENT_API_ACCESS_ROLE_ID,
    Applications,
    ApplicationType,
)
from phoneauth.domain.oidc.answers import (
    REQUEST_TTL,
    AuthorizationRequestNotFoundError,
    EndSessionError,
    HttpCall,
    ProtocolAnswer,
    SignInNeeded,
)
from phoneauth.domain.oidc.authlib_parts import (
    Client,
    CodeRecord,
    InvalidGrantError,
    InvalidTargetError,
    ProtocolRequest,
    RefreshRecord,
    Server,
    SignedInUser,
    at_hash,
    run,
)
from phoneauth.domain.oidc.claims import CLAIMS_SUPPORTED, SUPPORTED_SCOPES, user_claims
from phoneauth.domain.oidc.records import (
    AuthorizationRequest,
    IssuedCode,
    IssuedRefreshToken,
    OidcStore,
    ResourceLookup,
    token_hash,
)
from phoneauth.domain.oidc.tokens import MANAGEMENT_API_SCOPE, InvalidTokenError, OidcTokens
from phoneauth.domain.sessions import Principal, Sessions, StoredSession
from phoneauth.domain.users import UserStore

log = logging.getLogger("phoneauth.oidc")
# Authlib logs issued tokens at DEBUG ("Issue token {...}"): never below INFO here, whatever
# level the operator gives the root logger. No token, code or secret may reach a log.
logging.getLogger("authlib").setLevel(logging.INFO)

CODE_TTL = timedelta(seconds=60)  # oidc-provider's (Logto's) default
REFRESH_TOKEN_TTL = timedelta(days=14)  # Logto's default
ACCESS_TOKEN_TTL_S = 3600
ID_TOKEN_TTL_S = 3600


class OidcProvider:
    def __init__(
        self,
        *,
        store: OidcStore,
        applications: Applications,
        sessions: Sessions,
        users: UserStore,
        tokens: OidcTokens,
        resources: ResourceLookup,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.applications = applications
        self.sessions = sessions
        self.users = users
        self.tokens = tokens
        self.resources = resources
        self.clock = clock

    # -- discovery ---------------------------------------------------------------------------

    def discovery(self, tenant_id: str) -> dict[str, Any]:
        issuer = self.tokens.issuer(tenant_id)
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/me",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/session/end",
            "revocation_endpoint": f"{issuer}/token/revocation",
            "scopes_supported": list(SUPPORTED_SCOPES),
            "claims_supported": list(CLAIMS_SUPPORTED),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "none",
                "client_secret_basic",
                "client_secret_post",
            ],
            "id_token_signing_alg_values_supported": ["ES256"],
            "request_parameter_supported": False,
            "claims_parameter_supported": False,
        }

    async def allows_origin(self, tenant_id: str, client_id: str | None, origin: str) -> bool:
        """CORS for a browser app calling the token, revocation or userinfo endpoint: the
        origins of its redirect URIs and its `customClientMetadata.corsAllowedOrigins`."""
        if not client_id:
            return False
        application = await self.applications.find(tenant_id, client_id)
        if application is None:
            return False
        listed = application.custom_client_metadata.get("corsAllowedOrigins") or []
        origins = {_origin(uri) for uri in application.redirect_uris} | {
            str(value).rstrip("/") for value in listed
        }
        return origin.rstrip("/") in origins

    # -- authorization -----------------------------------------------------------------------

    async def authorize(
        self, tenant_id: str, call: HttpCall, session: StoredSession | None
    ) -> ProtocolAnswer | SignInNeeded:
        """`/oidc/auth`: a code at once when signed in (and `prompt` allows), `login_required`
        for `prompt=none` without a session, else the sign-in pages."""
        user = await self._signed_in(tenant_id, session)
        hooks = _TenantHooks(self, tenant_id)
        request = _protocol_request(call)

        def validate() -> ProtocolAnswer | Server | None:
            server = Server(hooks)
            try:
                grant = server.get_consent_grant(request, end_user=user)
                try:
                    self._check_authorization_extras(hooks, request, grant.request.client)
                except OAuth2Error as error:
                    error.redirect_uri = grant.redirect_uri  # checked: the app may be told
                    raise
            except OAuth2Error as error:
                error.state = request.payload.state
                return ProtocolAnswer(*server.handle_error_response(request, error))
            if grant.prompt == "login":
                return None
            answer = server.create_authorization_response(request, grant_user=user, grant=grant)
            return ProtocolAnswer(*answer)

        outcome = await anyio.to_thread.run_sync(validate)
        if outcome is not None:
            return outcome
        return await self._wait_for_sign_in(tenant_id, call)

    def _check_authorization_extras(
        self, hooks: _TenantHooks, request: ProtocolRequest, client: Client
    ) -> None:
        """What Authlib leaves to us: PKCE is required of public clients and must be S256 (a
        missing method means `plain`), only the query response mode, a known `resource`."""
        data = request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if challenge and method != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.")
        if client.application.is_public and not challenge:
            raise InvalidRequestError("PKCE is required: send code_challenge (S256).")
        if data.get("response_mode", "query") != "query":
            raise InvalidRequestError("Only the query response mode is supported.")
        for resource in request.payload.datalist.get("resource", []):
            hooks.resource_ttl(resource, user_token=True)

    async def _wait_for_sign_in(self, tenant_id: str, call: HttpCall) -> SignInNeeded:
        data = dict(reversed(call.query))
        now = self.clock()
        uid = secrets.token_urlsafe(24)
        await self.store.add_request(
            AuthorizationRequest(
                uid=uid,
                tenant_id=tenant_id,
                application_id=data["client_id"],
                parameters={"query": [list(pair) for pair in call.query]},
                created_at=now,
                expires_at=now + REQUEST_TTL,
            )
        )
        first = data.get("first_screen") or data.get("interaction_mode")
        screen = "register" if first in ("register", "signUp", "identifier:register") else "sign-in"
        return SignInNeeded(uid, screen, data["client_id"])

    async def resume(
        self, tenant_id: str, uid: str, uri: str, session: StoredSession | None
    ) -> ProtocolAnswer | SignInNeeded:
        """`/oidc/auth/{uid}` after the sign-in: the code for the session signed in since."""
        waiting = await self.store.find_request(tenant_id, uid)
        if waiting is None or waiting.expires_at <= self.clock():
            raise AuthorizationRequestNotFoundError()
        query = [(str(k), str(v)) for k, v in waiting.parameters["query"]]
        fresh_enough = (
            session is not None
            and session.created_at is not None
            and session.created_at >= waiting.created_at
        )
        if session is None or not fresh_enough:
            # Still not signed in (or only by a session older than the request): back to the
            # pages, with the same waiting request.
            data = dict(reversed(query))
            return SignInNeeded(uid, "sign-in", data.get("client_id", ""))
        await self.store.delete_request(tenant_id, uid)
        without_prompt = [(k, v) for k, v in query if k != "prompt"]
        call = HttpCall("GET", uri, None, without_prompt, [])
        answer = await self.authorize(tenant_id, call, session)
        if isinstance(answer, SignInNeeded):  # pragma: no cover - a live session was given
            raise AuthorizationRequestNotFoundError()
        return answer

    async def _signed_in(
        self, tenant_id: str, session: StoredSession | None
    ) -> SignedInUser | None:
        if session is None:
            return None
        user = await self.users.get(tenant_id, session.user_id)
        if user is None or user.is_suspended:
            return None
        return SignedInUser(user, session.id, session.created_at or self.clock())

    # -- token, revocation -------------------------------------------------------------------

    async def token(self, tenant_id: str, call: HttpCall) -> ProtocolAnswer:
        hooks = _TenantHooks(self, tenant_id)

        def respond() -> ProtocolAnswer:
            return ProtocolAnswer(*Server(hooks).create_token_response(_protocol_request(call)))

        return await anyio.to_thread.run_sync(respond)

    async def revoke(self, tenant_id: str, call: HttpCall) -> ProtocolAnswer:
        hooks = _TenantHooks(self, tenant_id)

        def respond() -> ProtocolAnswer:
            server = Server(hooks)
            return ProtocolAnswer(
                *server.create_endpoint_response("revocation", _protocol_request(call))
            )

        return await anyio.to_thread.run_sync(respond)

    # -- userinfo, end session ---------------------------------------------------------------

    async def userinfo(self, tenant_id: str, access_token: str) -> dict[str, Any]:
        """Claims for a token issued for userinfo (no `resource`), while its session and grant
        last."""
        claims = await self.tokens.verify_access_token(
            tenant_id, access_token, audience=self.tokens.userinfo_audience(tenant_id)
        )
        session_id, grant_id = claims.get("sid"), claims.get("gid")
        if not session_id or await self.sessions.find_live(tenant_id, str(session_id)) is None:
            raise InvalidTokenError("The session of this token has ended.")
        if grant_id and await self.store.family_revoked(tenant_id, str(grant_id)):
            raise InvalidTokenError("This token was revoked.")
        user = await self.users.get(tenant_id, str(claims["sub"]))
        if user is None or user.is_suspended:
            raise InvalidTokenError("The user of this token no longer exists.")
        return user_claims(user, str(claims.get("scope", "")))

    async def end_session(
        self,
        tenant_id: str,
        *,
        session: StoredSession | None,
        client_id: str | None,
        post_logout_redirect_uri: str | None,
    ) -> str | None:
        """Sign out (the session, its grants' refresh tokens); where to send the browser: the
        registered `post_logout_redirect_uri`, or None. An unregistered URI is refused."""
        target = None
        if post_logout_redirect_uri:
            application = await self.applications.find(tenant_id, client_id) if client_id else None
            if application is None:
                raise EndSessionError("Name the client (client_id or id_token_hint).")
            if post_logout_redirect_uri not in application.post_logout_redirect_uris:
                raise EndSessionError("post_logout_redirect_uri is not registered for the client.")
            target = post_logout_redirect_uri
        if session is not None:
            await self.end_login_session(tenant_id, session.id, session.user_id)
        return target

    async def end_login_session(self, tenant_id: str, session_id: str, user_id: str) -> None:
        await self.sessions.sign_out(Principal(tenant_id, user_id, session_id))
        await self.store.revoke_session(tenant_id, session_id, self.clock())

    async def client_of_id_token(self, tenant_id: str, id_token: str) -> str | None:
        """The `aud` of an ID token this tenant signed (expired ones too: OIDC RP-Initiated
        Logout accepts them as hints); None when it is not ours."""
        try:
            claims = await self.tokens.verify_id_token_hint(tenant_id, id_token)
        except InvalidTokenError:
            return None
        audience = claims.get("aud")
        if isinstance(audience, list):
            return str(audience[0]) if audience else None
        return None if audience is None else str(audience)


class _TenantHooks:
    """The Authlib callbacks for one request of one tenant; they run in the worker thread."""

    def __init__(self, provider: OidcProvider, tenant_id: str) -> None:
        self.provider = provider
        self.tenant_id = tenant_id
        self._clients: dict[str, Client | None] = {}

    def find_client(self, client_id: str) -> Client | None:
        if client_id not in self._clients:
            application = run(self.provider.applications.find, self.tenant_id, client_id)
            self._clients[client_id] = (
                None if application is None else Client(application, self._secret_check(client_id))
            )
        return self._clients[client_id]

    def _secret_check(self, client_id: str) -> Callable[[str], bool]:
        def check(secret: str) -> bool:
            return run(self.provider.applications.secret_matches, self.tenant_id, client_id, secret)

        return check

    def resource_ttl(self, resource: str, *, user_token: bool, client: Client | None = None) -> int:
        """The lifetime of a token for `resource`; `invalid_target` when it may not have one."""
        management = self.provider.tokens.management_resource(self.tenant_id)
        if resource == management:
            allowed = (
                not user_token
                and client is not None
                and client.application.type is ApplicationType.MACHINE_TO_MACHINE
                and run(
                    self.provider.applications.has_role,
                    self.tenant_id,
                    client.get_client_id(),
                    MANAGEMENT_API_ACCESS_ROLE_ID,
                )
            )
            if not allowed:
                raise InvalidTargetError(
                    "This client may not get tokens for the Management API: give the app the "
                    "Management API access role."
                )
            return ACCESS_TOKEN_TTL_S
        ttl = run(self.provider.resources.access_token_ttl, self.tenant_id, resource)
        if ttl is None:
            raise InvalidTargetError("The resource is not a registered API resource.")
        return ttl

    # tokens ---------------------------------------------------------------------------------

    def issue_tokens(
        self,
        request: ProtocolRequest,
        grant_type: str,
        user: SignedInUser | None,
        scope: str,
        include_refresh_token: bool,
    ) -> dict[str, Any]:
        client: Client = request.client
        granted = _granted_resource(request)
        asked = request.payload.data.get("resource")
        if grant_type == "client_credentials":
            if not asked:
                raise InvalidTargetError("Name the API: send the resource parameter.")
            ttl = self.resource_ttl(asked, user_token=False, client=client)
            management = asked == self.provider.tokens.management_resource(self.tenant_id)
            scopes = set(scope.split())
            if management and not scopes <= {MANAGEMENT_API_SCOPE}:
                raise InvalidScopeError("The Management API has one scope: all.")
            token_scope = MANAGEMENT_API_SCOPE if management else ""
            access = run(
                self.provider.tokens.access_token,
                self.tenant_id,
                subject=client.get_client_id(),
                client_id=client.get_client_id(),
                audience=asked,
                scope=token_scope,
                ttl_seconds=ttl,
            )
            return _token_body(access, ttl, token_scope)
        assert user is not None  # noqa: S101 - Authlib only calls with a user for these grants
        if asked and asked != granted:
            raise InvalidTargetError("The resource was not part of the authorization.")
        if granted:
            ttl = self.resource_ttl(granted, user_token=True)
            audience = granted
        else:
            ttl, audience = (
                ACCESS_TOKEN_TTL_S,
                self.provider.tokens.userinfo_audience(self.tenant_id),
            )
        family = _family_of(request)
        access = run(
            self.provider.tokens.access_token,
            self.tenant_id,
            subject=user.user.id,
            client_id=client.get_client_id(),
            audience=audience,
            scope=scope,
            ttl_seconds=ttl,
            session_id=user.session_id,
            grant_id=family,
        )
        body = _token_body(access, ttl, scope)
        if include_refresh_token and "offline_access" in scope.split():
            body["refresh_token"] = secrets.token_urlsafe(32)
        return body

    def save_tokens(self, token: dict[str, Any], request: ProtocolRequest) -> None:
        now = self.provider.clock()
        store = self.provider.store
        code: CodeRecord | None = request.authorization_code
        previous: RefreshRecord | None = request.refresh_token
        if code is not None and not run(store.use_code, self.tenant_id, code.code.code_hash, now):
            run(store.revoke_family, self.tenant_id, code.code.family_id, now)
            raise InvalidGrantError("The code was already used; its tokens are revoked.")
        if previous is not None and not run(
            store.use_refresh_token, self.tenant_id, previous.token.token_hash, now
        ):
            run(store.revoke_family, self.tenant_id, previous.token.family_id, now)
            raise InvalidGrantError("The refresh token was already used; its grant is revoked.")
        refresh = token.get("refresh_token")
        user: SignedInUser | None = request.user
        if refresh is None or user is None:
            return
        run(
            store.add_refresh_token,
            IssuedRefreshToken(
                token_hash=token_hash(refresh),
                tenant_id=self.tenant_id,
                application_id=request.client.get_client_id(),
                user_id=user.user.id,
                session_id=user.session_id,
                family_id=_family_of(request),
                auth_time=user.auth_time,
                created_at=now,
                expires_at=now + REFRESH_TOKEN_TTL,
                details={"scope": token.get("scope", ""), "resource": _granted_resource(request)},
            ),
        )

    def id_token(self, token: dict[str, Any], request: ProtocolRequest) -> str:
        user: SignedInUser = request.user
        now = int(self.provider.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.provider.tokens.issuer(self.tenant_id),
            "aud": request.client.get_client_id(),
            "iat": now,
            "exp": now + ID_TOKEN_TTL_S,
            "auth_time": int(user.auth_time.timestamp()),
            "sid": user.session_id,
        }
        code: CodeRecord | None = request.authorization_code
        if code is not None and code.get_nonce():
            claims["nonce"] = code.get_nonce()
        if token.get("access_token"):
            claims["at_hash"] = at_hash(token["access_token"])
        claims |= user_claims(user.user, token.get("scope", ""))
        return run(self.provider.tokens.sign, self.tenant_id, claims)

    # codes ----------------------------------------------------------------------------------

    def save_code(self, code: str, request: ProtocolRequest) -> None:
        user: SignedInUser = request.user
        data = request.payload.data
        now = self.provider.clock()
        run(
            self.provider.store.add_code,
            IssuedCode(
                code_hash=token_hash(code),
                tenant_id=self.tenant_id,
                application_id=request.client.get_client_id(),
                user_id=user.user.id,
                session_id=user.session_id,
                family_id=uuid.uuid4().hex,
                auth_time=user.auth_time,
                created_at=now,
                expires_at=now + CODE_TTL,
                details={
                    "redirect_uri": data.get("redirect_uri"),
                    "scope": request.scope,
                    "nonce": data.get("nonce"),
                    "code_challenge": data.get("code_challenge"),
                    "code_challenge_method": data.get("code_challenge_method"),
                    "resource": data.get("resource"),
                },
            ),
        )

    def find_code(self, code: str, client: Client) -> CodeRecord | None:
        found = run(self.provider.store.find_code, self.tenant_id, token_hash(code))
        if found is None or found.application_id != client.get_client_id():
            return None
        now = self.provider.clock()
        if found.used_at is not None:
            # A second use: someone holds a copy. Revoke what the first use issued.
            log.warning("oidc: an authorization code was used twice; its grant is revoked")
            run(self.provider.store.revoke_family, self.tenant_id, found.family_id, now)
            return None
        if found.expires_at <= now or found.revoked_at is not None:
            return None
        return CodeRecord(found)

    def user_of(self, user_id: str, session_id: str) -> SignedInUser | None:
        """The user, while the login session lasts: signing out, a password reset or deleting
        the user ends the session and so every grant made in it."""
        session = run(self.provider.sessions.sessions.get, self.tenant_id, session_id)
        if session is None or session.revoked_at is not None or session.user_id != user_id:
            return None
        user = run(self.provider.users.get, self.tenant_id, user_id)
        if user is None or user.is_suspended:
            return None
        return SignedInUser(user, session_id, session.created_at or self.provider.clock())

    # refresh tokens -------------------------------------------------------------------------

    def find_refresh_token(
        self, token: str, *, for_revocation: bool = False
    ) -> RefreshRecord | None:
        found = run(self.provider.store.find_refresh_token, self.tenant_id, token_hash(token))
        if found is None or found.revoked_at is not None:
            return None
        now = self.provider.clock()
        if found.used_at is not None:
            if not for_revocation:
                log.warning("oidc: a rotated refresh token was used again; its grant is revoked")
                run(self.provider.store.revoke_family, self.tenant_id, found.family_id, now)
            return None
        if found.expires_at <= now:
            return None
        if not for_revocation and self.user_of(found.user_id, found.session_id) is None:
            return None  # the login session ended: invalid_grant, not "no user"
        return RefreshRecord(found)

    def revoke(self, record: RefreshRecord) -> None:
        now = self.provider.clock()
        run(self.provider.store.revoke_family, self.tenant_id, record.token.family_id, now)


def _protocol_request(call: HttpCall) -> ProtocolRequest:
    return ProtocolRequest(call.method, call.uri, call.authorization, call.query, call.form)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def _token_body(access_token: str, ttl: int, scope: str) -> dict[str, Any]:
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    }


def _granted_resource(request: ProtocolRequest) -> str | None:
    """The resource the code or refresh token was granted for."""
    code: CodeRecord | None = request.authorization_code
    if code is not None:
        value = code.code.details.get("resource")
        return None if value is None else str(value)
    previous: RefreshRecord | None = request.refresh_token
    if previous is not None:
        value = previous.token.details.get("resource")
        return None if value is None else str(value)
    return None


def _family_of(request: ProtocolRequest) -> str:
    code: CodeRecord | None = request.authorization_code
    if code is not None:
        return code.code.family_id
    previous: RefreshRecord | None = request.refresh_token
    if previous is not None:
        return previous.token.family_id
    raise InvalidRequestError("no grant")  # pragma: no cover - only code and refresh grants


__all__ = ["OidcProvider"]
