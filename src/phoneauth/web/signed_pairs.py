"""A tenant and an id signed together, for the cookies that carry them (the interaction, the
waiting authorization): a client can neither forge an id nor carry one across tenants.

The token is `tenant:id.signature` (itsdangerous' `Signer`, HMAC-SHA1 with the cookie's own
salt). Until this release the pair went through `URLSafeSerializer` (JSON, a compression
attempt, base64, then the same signer): 114 µs to issue a cookie and 23 µs to read one,
against 10 and 12 µs now, on every Experience request and every start of a sign-in. A token
of that earlier form is still read (same key, same signature; its payload decoded as before),
so a sign-in under way during an upgrade goes on; such tokens last at most an hour.
"""

from __future__ import annotations

from functools import lru_cache

from itsdangerous import BadData, BadSignature, Signer, URLSafeSerializer

# Never in a tenant id (a-z, 0-9, -), an interaction id or authorization uid (URL-safe base64:
# letters, digits, - and _) or an earlier token's payload (base64).
_SEPARATOR = ":"


class SignedPairs:
    def __init__(self, key: bytes, salt: str) -> None:
        self._signer = Signer(key, salt=salt)
        self._earlier = URLSafeSerializer(key, salt=salt)  # reads the earlier tokens' payload

    def dumps(self, tenant_id: str, value: str) -> str:
        return self._signer.sign(f"{tenant_id}{_SEPARATOR}{value}").decode("ascii")

    def loads(self, token: str) -> tuple[str, str] | None:
        """The pair if the signature is good, else None."""
        try:
            signed = self._signer.unsign(token).decode("utf-8")
        except (BadSignature, UnicodeError):
            return None
        tenant_id, separator, value = signed.rpartition(_SEPARATOR)
        if separator:
            return tenant_id, value
        try:
            earlier = self._earlier.load_payload(signed.encode("ascii"))
        except BadData:  # signed by us, yet not what the earlier form held
            return None
        match earlier:
            case [str(tenant_id), str(value)]:
                return tenant_id, value
            case _:
                return None


@lru_cache(maxsize=8)
def signed_pairs(key: bytes, salt: str) -> SignedPairs:
    """Built once per key and salt: building a signer derives its key."""
    return SignedPairs(key, salt)
