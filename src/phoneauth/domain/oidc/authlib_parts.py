"""Authlib's authorization-server pieces, fitted to phoneauth's stores.

Authlib does the protocol: grant and response-type dispatch, client authentication
(`client_secret_basic`, `client_secret_post`, `none`), redirect URI and scope checks, PKCE,
prompt handling, and the RFC 6749 error forms. Its callbacks are synchronous, so each protocol
request runs in a worker thread (`OidcProvider`), and every callback reaches our async stores
through `anyio.from_thread.run`. Only public, documented extension points are used: the
`AuthorizationServer` methods integrations implement, the grants' documented hooks and methods,
the `CodeChallenge`, `OpenIDCode`/`OpenIDToken` extensions and `RevocationEndpoint`.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio.from_thread
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    OAuth2Payload,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core import OpenIDCode, OpenIDToken
from authlib.oidc.core.util import create_half_hash

from phoneauth.domain.applications import Application
from phoneauth.domain.oidc.records import IssuedCode, IssuedRefreshToken
from phoneauth.domain.users import User

T = TypeVar("T")


class InvalidTargetError(OAuth2Error):
    """RFC 8707: the `resource` is unknown, or not one this client may get a token for."""

    error = "invalid_target"


def run(function: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kwargs: Any) -> T:
    """Call one of our async functions from Authlib's worker thread, on the event loop."""
    return anyio.from_thread.run(partial(function, *args, **kwargs))


class _Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class ProtocolRequest(OAuth2Request):
    """One HTTP request as Authlib reads it: query and form pairs, the Authorization header."""

    def __init__(
        self,
        method: str,
        uri: str,
        authorization: str | None,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        headers = {"Authorization": authorization} if authorization else {}
        super().__init__(method, uri, headers=headers)
        self._args = dict(reversed(query))
        self._form = dict(reversed(form))
        self.payload = _Payload(query + form)

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


@dataclass(frozen=True, slots=True)
class SignedInUser:
    """The resource owner as the grants see it: the user and the login session."""

    user: User
    session_id: str
    auth_time: datetime

    def get_user_id(self) -> str:
        return self.user.id


class Client(ClientMixin):
    def __init__(self, application: Application, secret_matches: Callable[[str], bool]) -> None:
        self.application = application
        self._secret_matches = secret_matches

    def get_client_id(self) -> str:
        return self.application.id

    def get_default_redirect_uri(self) -> None:
        return None  # OpenID Connect: the request names its redirect URI

    def get_allowed_scope(self, scope: str | None) -> str:
        from phoneauth.domain.oidc.claims import SUPPORTED_SCOPES

        # Unknown scopes are dropped, as oidc-provider (Logto's) does.
        return " ".join(s for s in dict.fromkeys((scope or "").split()) if s in SUPPORTED_SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.application.redirect_uris  # exact match only

    def check_client_secret(self, client_secret: str) -> bool:
        return self._secret_matches(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.application.is_public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.application.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.application.grant_types


class CodeRecord(AuthorizationCodeMixin):
    def __init__(self, code: IssuedCode) -> None:
        self.code = code

    def get_redirect_uri(self) -> str:
        return str(self.code.details["redirect_uri"])

    def get_scope(self) -> str:
        return str(self.code.details.get("scope", ""))

    def get_nonce(self) -> str | None:
        nonce = self.code.details.get("nonce")
        return None if nonce is None else str(nonce)

    def get_auth_time(self) -> int:
        return int(self.code.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class RefreshRecord(TokenMixin):
    def __init__(self, token: IssuedRefreshToken) -> None:
        self.token = token

    def check_client(self, client: Client) -> bool:
        return self.token.application_id == client.get_client_id()

    def get_scope(self) -> str:
        return str(self.token.details.get("scope", ""))

    def get_expires_in(self) -> int:
        return int((self.token.expires_at - self.token.created_at).total_seconds())

    def is_expired(self) -> bool:
        return False  # checked when found

    def is_revoked(self) -> bool:
        return self.token.revoked_at is not None


def _s256_matches(code_verifier: str, code_challenge: str) -> bool:
    """RFC 7636 S256, compared in constant time."""
    return hmac.compare_digest(create_s256_code_challenge(code_verifier), code_challenge)


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only (`plain` is refused); the verifier is checked in constant time."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's class attribute
    CODE_CHALLENGE_METHODS = {"S256": _s256_matches}  # noqa: RUF012

    def get_authorization_code_challenge(self, authorization_code: CodeRecord) -> str | None:
        value = authorization_code.code.details.get("code_challenge")
        return None if value is None else str(value)

    def get_authorization_code_challenge_method(self, authorization_code: CodeRecord) -> str | None:
        value = authorization_code.code.details.get("code_challenge_method")
        return None if value is None else str(value)


class Hooks(Protocol):
    """What the Authlib classes below ask of phoneauth (implemented by `OidcProvider`)."""

    tenant_id: str

    def find_client(self, client_id: str) -> Client | None: ...

    def issue_tokens(
        self,
        request: ProtocolRequest,
        grant_type: str,
        user: SignedInUser | None,
        scope: str,
        include_refresh_token: bool,
    ) -> dict[str, Any]: ...

    def save_tokens(self, token: dict[str, Any], request: ProtocolRequest) -> None: ...

    def save_code(self, code: str, request: ProtocolRequest) -> None: ...

    def find_code(self, code: str, client: Client) -> CodeRecord | None: ...

    def user_of(self, user_id: str, session_id: str) -> SignedInUser | None: ...

    def find_refresh_token(
        self, token: str, *, for_revocation: bool = False
    ) -> RefreshRecord | None: ...

    def revoke(self, record: RefreshRecord) -> None: ...

    def id_token(self, token: dict[str, Any], request: ProtocolRequest) -> str: ...


class _Issuing:
    """Our grants hand the request to the token generator: the audience and lifetime depend
    on its `resource` (RFC 8707), which Authlib's server-level generator never sees."""

    GRANT_TYPE: str
    request: ProtocolRequest
    server: Server

    def generate_token(
        self,
        user: SignedInUser | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return self.server.hooks.issue_tokens(
            self.request, grant_type or self.GRANT_TYPE, user, scope or "", include_refresh_token
        )


class CodeGrant(_Issuing, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    def save_authorization_code(self, code: str, request: ProtocolRequest) -> None:
        self.server.hooks.save_code(code, request)

    def query_authorization_code(self, code: str, client: Client) -> CodeRecord | None:
        return self.server.hooks.find_code(code, client)

    def delete_authorization_code(self, authorization_code: CodeRecord) -> None:
        """Nothing: the code was marked used, atomically, before the tokens were saved."""

    def authenticate_user(self, authorization_code: CodeRecord) -> SignedInUser | None:
        code = authorization_code.code
        return self.server.hooks.user_of(code.user_id, code.session_id)


class RefreshGrant(_Issuing, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every use returns a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        return self.server.hooks.find_refresh_token(refresh_token)

    def authenticate_user(self, refresh_token: RefreshRecord) -> SignedInUser | None:
        token = refresh_token.token
        return self.server.hooks.user_of(token.user_id, token.session_id)

    def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
        """Nothing: the token was marked rotated, atomically, before the new ones were saved."""


class ClientCredentialsGrant(_Issuing, grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012


class _IdTokens:
    """ID tokens signed with the tenant's ES256 key, claims by scope (see `OidcProvider`)."""

    server_hooks: Hooks

    def encode_id_token(self, token: dict[str, Any], request: ProtocolRequest) -> str:
        return self.server_hooks.id_token(token, request)

    def exists_nonce(self, nonce: str, request: ProtocolRequest) -> bool:
        # Replay of a nonce is the relying party's to detect (it checks the ID token's nonce
        # against the one it sent); the provider only round-trips it.
        return False


class IdTokenOnCode(_IdTokens, OpenIDCode):
    def __init__(self, hooks: Hooks) -> None:
        super().__init__(require_nonce=False)
        self.server_hooks = hooks


class IdTokenOnRefresh(_IdTokens, OpenIDToken):
    def __init__(self, hooks: Hooks) -> None:
        self.server_hooks = hooks


class Revocation(RevocationEndpoint):
    """RFC 7009. Refresh tokens are revoked with their whole grant; an access token (a JWT) is
    not looked up, and the answer is 200 as the RFC asks for tokens the server cannot revoke."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshRecord | None:
        if token_type_hint == "access_token":
            return None
        hooks: Hooks = self.server.hooks
        return hooks.find_refresh_token(token_string, for_revocation=True)

    def revoke_token(self, token: RefreshRecord, request: ProtocolRequest) -> None:
        self.server.hooks.revoke(token)


class Server(AuthorizationServer):
    """One per protocol request: it knows its tenant through `hooks`."""

    def __init__(self, hooks: Hooks) -> None:
        super().__init__(scopes_supported=None)
        self.hooks = hooks
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True), IdTokenOnCode(hooks)])
        self.register_grant(RefreshGrant, [IdTokenOnRefresh(hooks)])
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Revocation)

    def query_client(self, client_id: str) -> Client | None:
        return self.hooks.find_client(client_id)

    def save_token(self, token: dict[str, Any], request: ProtocolRequest) -> None:
        self.hooks.save_tokens(token, request)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def create_oauth2_request(self, request: ProtocolRequest) -> ProtocolRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)


def at_hash(access_token: str) -> str:
    """OIDC Core 3.1.3.6: the left half of the token's SHA-256, for ES256."""
    value = create_half_hash(access_token, "ES256")
    if value is None:  # pragma: no cover - ES256 always has a hash
        raise InvalidRequestError("no hash for the signing algorithm")
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


__all__ = [
    "Client",
    "CodeRecord",
    "Hooks",
    "InvalidGrantError",
    "InvalidTargetError",
    "ProtocolRequest",
    "RefreshRecord",
    "Server",
    "SignedInUser",
    "at_hash",
    "run",
]
