"""Issuers, resource indicators and the JWTs the provider signs with the tenant's ES256 key.

Access tokens follow RFC 9068 (`typ: at+jwt`, `aud` = the resource, `client_id`, `scope`); tokens
for a user also name the login session (`sid`) and the grant (`gid`), so phoneauth's own
endpoints refuse them once the session has ended or the grant was revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt
from jwt.algorithms import ECAlgorithm

from phoneauth.domain.sessions import Sessions
from phoneauth.domain.tenants import DEFAULT_TENANT_ID
from phoneauth.errors import PhoneauthError

ALGORITHM = "ES256"
MANAGEMENT_API_SCOPE = "all"  # the Management API resource's only scope (Logto's)


class InvalidTokenError(PhoneauthError):
    """The access token is missing, malformed, expired, or not for this resource."""

    code = "oidc.invalid_token"
    status = 401


class OidcTokens:
    def __init__(
        self,
        sessions: Sessions,
        public_url: str,
        management_resource: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.public_url = public_url.rstrip("/")
        self.management_resource_template = management_resource
        self.clock = clock

    def issuer(self, tenant_id: str) -> str:
        """`<public url>/oidc` for the default tenant (Logto's), `/t/<id>/oidc` for others."""
        if tenant_id == DEFAULT_TENANT_ID:
            return f"{self.public_url}/oidc"
        return f"{self.public_url}/t/{tenant_id}/oidc"

    def userinfo_audience(self, tenant_id: str) -> str:
        """The `aud` of a token asked for without a resource: good for userinfo only."""
        return f"{self.issuer(tenant_id)}/me"

    def management_resource(self, tenant_id: str) -> str:
        """Logto's Management API indicator, `https://<tenant>.logto.app/api` by default."""
        return self.management_resource_template.replace("{tenant_id}", tenant_id)

    async def sign(self, tenant_id: str, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        kid, private = await self.sessions.signing_key(tenant_id)
        return jwt.encode(claims, private, algorithm=ALGORITHM, headers={"kid": kid, "typ": typ})

    async def access_token(
        self,
        tenant_id: str,
        *,
        subject: str,
        client_id: str,
        audience: str,
        scope: str,
        ttl_seconds: int,
        session_id: str | None = None,
        grant_id: str | None = None,
    ) -> str:
        now = int(self.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer(tenant_id),
            "sub": subject,
            "aud": audience,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        if session_id is not None:
            claims["sid"] = session_id
        if grant_id is not None:
            claims["gid"] = grant_id
        return await self.sign(tenant_id, claims, typ="at+jwt")

    async def verify_id_token_hint(self, tenant_id: str, token: str) -> dict[str, Any]:
        """The claims of an ID token this tenant signed; expiry is not checked (a logout hint
        may be old), the signature and issuer are."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("The ID token is malformed.") from None
        jwk = await self.sessions.verification_jwk(tenant_id, str(header.get("kid")))
        if jwk is None:
            raise InvalidTokenError("The ID token was not signed by this tenant.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                ECAlgorithm.from_jwk(jwk),  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                issuer=self.issuer(tenant_id),
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"The ID token is not valid: {error}.") from None
        return claims

    async def verify_access_token(
        self, tenant_id: str, token: str, *, audience: str
    ) -> dict[str, Any]:
        """The claims of a token this tenant signed for `audience`, unexpired; else 401."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("The access token is malformed.") from None
        if header.get("typ") != "at+jwt":
            raise InvalidTokenError("This is not an access token.")
        jwk = await self.sessions.verification_jwk(tenant_id, str(header.get("kid")))
        if jwk is None:
            raise InvalidTokenError("The access token was not signed by this tenant.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                ECAlgorithm.from_jwk(jwk),  # type: ignore[arg-type]
                algorithms=[ALGORITHM],
                issuer=self.issuer(tenant_id),
                audience=audience,
                options={
                    "require": ["exp", "sub", "iss", "aud", "client_id"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
            )
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"The access token is not valid: {error}.") from None
        if claims["exp"] <= self.clock().timestamp():
            raise InvalidTokenError("The access token has expired.")
        return claims
