"""Sessions of signed-in end users: an HTTP-only cookie token and an ES256 access token (JWT).

The cookie carries 256 random bits and only its SHA-256 is stored. Access tokens are signed with
the tenant's newest ES256 key; the public keys (retired ones for a grace period) are served as a
JWKS so apps verify tokens offline. `rotate` adds a key; the old one keeps verifying until retired.

Every access token names its session (`sid`). Apps verifying offline trust it until `exp`; our own
endpoints also check that the session still exists and is not revoked, so signing out, a password
reset or deleting the user ends the token's use here at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from phoneauth.crypto import ConfigCipher
from phoneauth.domain.users import User, UserStore
from phoneauth.errors import PhoneauthError

ACCESS_TOKEN_TTL = timedelta(hours=1)
SESSION_TTL = timedelta(days=14)
RETIRED_KEY_GRACE = timedelta(hours=2)
SESSION_COOKIE = "phoneauth_session"
MAX_CACHED_KEYS = 256  # parsed signing keys kept per process, over all tenants


class NotSignedInError(PhoneauthError):
    """Sign in first: send the session cookie or `Authorization: Bearer <access token>`."""

    code = "auth.unauthorized"
    status = 401


@dataclass(frozen=True, slots=True)
class StoredKey:
    kid: str
    private_key_encrypted: str
    public_jwk: dict[str, Any]
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: str
    tenant_id: str
    user_id: str
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime | None = None  # when the user signed in (OIDC `auth_time`)


class SigningKeyStore(Protocol):
    async def keys(self, tenant_id: str) -> list[StoredKey]:
        """Every key of the tenant, newest first."""
        ...

    async def add(self, tenant_id: str, key: StoredKey) -> None: ...
    async def retire(self, tenant_id: str, kid: str, when: datetime) -> None: ...


class SessionStore(Protocol):
    async def create(
        self, tenant_id: str, user_id: str, token_hash: str, now: datetime, expires_at: datetime
    ) -> str: ...
    async def find(self, tenant_id: str, token_hash: str) -> StoredSession | None: ...
    async def get(self, tenant_id: str, session_id: str) -> StoredSession | None: ...
    async def revoke(self, tenant_id: str, session_id: str, when: datetime) -> None: ...
    async def revoke_user(self, tenant_id: str, user_id: str, when: datetime) -> int:
        """Revoke every live session of the user; how many."""
        ...


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a signed-in user of one tenant."""

    tenant_id: str
    user_id: str
    session_id: str | None


@dataclass(frozen=True, slots=True)
class IssuedSession:
    session_id: str
    cookie_token: str
    access_token: str
    expires_at: datetime
    access_token_expires_at: datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    def __init__(
        self,
        keys: SigningKeyStore,
        sessions: SessionStore,
        users: UserStore,
        cipher: ConfigCipher,
        clock: Callable[[], datetime],
    ) -> None:
        self.keys = keys
        self.sessions = sessions
        self.users = users
        self.cipher = cipher
        self.clock = clock
        # A kid's private key never changes: decrypted and parsed once per process, not on
        # every sign-in (the retirement check still reads the store each time).
        self._private_keys: dict[str, ec.EllipticCurvePrivateKey] = {}

    @staticmethod
    def issuer(tenant_id: str) -> str:
        return f"phoneauth:{tenant_id}"

    async def rotate(self, tenant_id: str) -> str:
        """A new signing key, used from now on; older keys retire after a grace period."""
        now = self.clock()
        for key in await self.keys.keys(tenant_id):
            if key.retired_at is None:
                await self.keys.retire(tenant_id, key.kid, now + RETIRED_KEY_GRACE)
        private = ec.generate_private_key(ec.SECP256R1())
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        kid = uuid.uuid4().hex
        jwk: dict[str, Any] = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
        jwk |= {"kid": kid, "use": "sig", "alg": "ES256"}
        encrypted = self.cipher.encrypt({"pem": pem})
        await self.keys.add(tenant_id, StoredKey(kid, encrypted, jwk, now, None))
        return kid

    async def signing_key(self, tenant_id: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
        """The tenant's newest key (made on first use): its kid and private key."""
        active = [k for k in await self.keys.keys(tenant_id) if k.retired_at is None]
        if not active:
            await self.rotate(tenant_id)
            active = [k for k in await self.keys.keys(tenant_id) if k.retired_at is None]
        key = active[0]
        private = self._private_keys.get(key.kid)
        if private is None:
            if len(self._private_keys) >= MAX_CACHED_KEYS:
                self._private_keys.clear()
            pem = str(self.cipher.decrypt(key.private_key_encrypted)["pem"]).encode()
            loaded = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise TypeError("a signing key is not an EC private key")
            private = self._private_keys[key.kid] = loaded
        return key.kid, private

    async def jwks(self, tenant_id: str) -> dict[str, list[dict[str, Any]]]:
        """Public keys that may have signed a live token: active ones and those in their grace."""
        now = self.clock()
        if not await self.keys.keys(tenant_id):
            await self.rotate(tenant_id)
        usable = [
            k.public_jwk
            for k in await self.keys.keys(tenant_id)
            if k.retired_at is None or k.retired_at > now
        ]
        return {"keys": usable}

    async def verification_jwk(self, tenant_id: str, kid: str) -> dict[str, Any] | None:
        """The public JWK of `kid` while it may verify tokens (active or in its grace)."""
        now = self.clock()
        for key in await self.keys.keys(tenant_id):
            if key.kid == kid and (key.retired_at is None or key.retired_at > now):
                return key.public_jwk
        return None

    async def find_live(self, tenant_id: str, session_id: str) -> StoredSession | None:
        """The session if it exists and is neither revoked nor expired."""
        found = await self.sessions.get(tenant_id, session_id)
        return found if found is not None and self._live(found) else None

    async def from_cookie(self, tenant_id: str, cookie: str | None) -> StoredSession | None:
        """The live session the cookie names, if any (no error: the caller decides)."""
        if not cookie:
            return None
        found = await self.sessions.find(tenant_id, _token_hash(cookie))
        return found if found is not None and self._live(found) else None

    async def access_token(self, user: User, session_id: str) -> str:
        token, _ = await self._access_token(user, session_id, self.clock())
        return token

    async def _access_token(
        self, user: User, session_id: str, now: datetime
    ) -> tuple[str, datetime]:
        """The signed token and its `exp`, as a datetime (whole seconds, as in the token)."""
        kid, private = await self.signing_key(user.tenant_id)
        expires = int((now + ACCESS_TOKEN_TTL).timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer(user.tenant_id),
            "sub": user.id,
            "tenant": user.tenant_id,
            "phone": user.phone,
            "iat": int(now.timestamp()),
            "exp": expires,
            "jti": uuid.uuid4().hex,
            "sid": session_id,
        }
        token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid})
        return token, datetime.fromtimestamp(expires, UTC)

    async def sign_in(self, user: User) -> IssuedSession:
        """A new session for the user: the cookie token (shown once) and an access token."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        expires_at = now + SESSION_TTL
        session_id = await self.sessions.create(
            user.tenant_id, user.id, _token_hash(token), now, expires_at
        )
        access, access_expires_at = await self._access_token(user, session_id, now)
        return IssuedSession(session_id, token, access, expires_at, access_expires_at)

    async def authenticate(
        self, tenant_id: str, *, bearer: str | None = None, cookie: str | None = None
    ) -> Principal:
        """The caller from an access token, else from the session cookie; 401 otherwise."""
        if bearer:
            return await self._from_access_token(tenant_id, bearer)
        if cookie:
            found = await self.sessions.find(tenant_id, _token_hash(cookie))
            if found and self._live(found):
                return Principal(tenant_id, found.user_id, found.id)
        raise NotSignedInError()

    def _live(self, session: StoredSession) -> bool:
        return session.revoked_at is None and session.expires_at > self.clock()

    async def _from_access_token(self, tenant_id: str, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise NotSignedInError("The access token is malformed.") from None
        keys = {k.kid: k for k in await self.keys.keys(tenant_id)}
        key = keys.get(str(kid))
        now = self.clock()
        if key is None or (key.retired_at is not None and key.retired_at <= now):
            raise NotSignedInError("The access token was not signed by this tenant.")
        try:
            claims = jwt.decode(
                token,
                ECAlgorithm.from_jwk(key.public_jwk),  # type: ignore[arg-type]
                algorithms=["ES256"],
                issuer=self.issuer(tenant_id),
                options={
                    "require": ["exp", "sub", "iss", "sid"],
                    "verify_exp": False,
                    "verify_iat": False,
                },
                leeway=0,
            )
        except jwt.PyJWTError as error:
            raise NotSignedInError(f"The access token is not valid: {error}.") from None
        if claims["exp"] <= now.timestamp():
            raise NotSignedInError("The access token has expired.")
        user_id, session_id = str(claims["sub"]), str(claims["sid"])
        session = await self.sessions.get(tenant_id, session_id)
        if session is None or session.user_id != user_id or not self._live(session):
            raise NotSignedInError("The access token's session has ended; sign in again.")
        return Principal(tenant_id, user_id, session_id)

    async def sign_out(self, principal: Principal) -> None:
        if principal.session_id:
            await self.sessions.revoke(principal.tenant_id, principal.session_id, self.clock())

    async def end_all(self, tenant_id: str, user_id: str) -> int:
        """End every session of the user (cookies and their access tokens); how many."""
        return await self.sessions.revoke_user(tenant_id, user_id, self.clock())
