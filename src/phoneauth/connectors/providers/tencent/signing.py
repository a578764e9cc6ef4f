"""Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256, as pure functions.

Each step of Tencent's "Signature v3" document is one function, so tests can check every published
intermediate value (HashedRequestPayload, CanonicalRequest, StringToSign) and not only the result.
Nothing here reads the clock or the network: the caller passes the timestamp and the exact bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host"
TERMINATOR = "tc3_request"


def hashed_payload(payload: bytes) -> str:
    """HashedRequestPayload: hex SHA-256 of the exact body bytes that go on the wire."""
    return hashlib.sha256(payload).hexdigest()


def canonical_request(
    *, content_type: str, host: str, payload: bytes, method: str = "POST", query: str = ""
) -> str:
    """CanonicalRequest for a request to `/` that signs `content-type` and `host`.

    Tencent lower-cases the canonical header values too, so `Application/JSON` and
    `application/json` sign alike; the header sent must still carry the same value.
    """
    headers = f"content-type:{content_type.strip().lower()}\nhost:{host.strip().lower()}\n"
    return "\n".join((method, "/", query, headers, SIGNED_HEADERS, hashed_payload(payload)))


def request_date(timestamp: int) -> str:
    """The credential scope's date: the UTC day of `X-TC-Timestamp`, never the local day."""
    # isoformat() takes a third of strftime()'s time, and one signature needs the date 3 times.
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def credential_scope(timestamp: int, service: str) -> str:
    return f"{request_date(timestamp)}/{service}/{TERMINATOR}"


def string_to_sign(*, timestamp: int, service: str, canonical: str) -> str:
    """StringToSign: algorithm, timestamp, credential scope and the hashed canonical request."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{credential_scope(timestamp, service)}\n{digest}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode("utf-8"), "sha256")


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    """SecretSigning: the HMAC chain `"TC3" + SecretKey` → date → service → `tc3_request`."""
    secret_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac(secret_date, service)
    return _hmac(secret_service, TERMINATOR)


def signature(key: bytes, to_sign: str) -> str:
    return _hmac(key, to_sign).hex()


def authorization(*, secret_id: str, timestamp: int, service: str, signature_hex: str) -> str:
    """The `Authorization` header value; Tencent separates its parts with `", "`."""
    return (
        f"{ALGORITHM} Credential={secret_id}/{credential_scope(timestamp, service)}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature_hex}"
    )


def sign(
    *,
    secret_id: str,
    secret_key: str,
    timestamp: int,
    service: str,
    host: str,
    content_type: str,
    payload: bytes,
) -> str:
    """Every step at once: the `Authorization` header for one POST of `payload` to `host`."""
    canonical = canonical_request(content_type=content_type, host=host, payload=payload)
    to_sign = string_to_sign(timestamp=timestamp, service=service, canonical=canonical)
    key = signing_key(secret_key, request_date(timestamp), service)
    return authorization(
        secret_id=secret_id,
        timestamp=timestamp,
        service=service,
        signature_hex=signature(key, to_sign),
    )
