"""Aliyun OpenAPI request signing as pure functions: RPC V2 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256).

No I/O, no clock, no randomness: the caller passes the timestamp and the nonce, so the published
worked examples can be reproduced byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

ACS3 = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


def percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: only `A-Za-z0-9-_.~` stay literal (space `%20`, `*` `%2A`)."""
    if _UNRESERVED.fullmatch(value):  # most names and values: skip quote(), which is slow
        return value
    return quote(value, safe="~", encoding="utf-8")


def canonical_query(params: Mapping[str, str]) -> str:
    """`enc(k)=enc(v)` sorted by name and joined by `&`; also our form body, so both agree."""
    return "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )


def acs_timestamp(moment: datetime) -> str:
    """UTC `yyyy-MM-ddTHH:mm:ssZ`, the form both `Timestamp` (V2) and `x-acs-date` (V3) need."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """V2 StringToSign: the method is part of it, so GET and POST signatures differ."""
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def rpc_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    """V2 `Signature`: base64 HMAC-SHA1 keyed with the secret plus `&`, over every other param."""
    digest = hmac.digest(f"{secret}&".encode(), rpc_string_to_sign(method, params).encode(), "sha1")
    return base64.b64encode(digest).decode("ascii")


def sha256_hex(payload: bytes) -> str:
    """`x-acs-content-sha256`: the hex digest of the exact body bytes sent."""
    return hashlib.sha256(payload).hexdigest()


def canonical_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """V3 CanonicalHeaders (lower-case names, trimmed values kept in case) and SignedHeaders."""
    lowered = {name.lower(): value.strip() for name, value in headers.items()}
    names = sorted(lowered)
    return "".join(f"{name}:{lowered[name]}\n" for name in names), ";".join(names)


def acs3_canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    hashed_payload: str,
) -> str:
    """V3 CanonicalRequest; `headers` must be exactly the headers to sign."""
    return _canonical_request(method, path, query, *canonical_headers(headers), hashed_payload)


def _canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    canonical: str,
    signed: str,
    hashed_payload: str,
) -> str:
    return "\n".join(
        [method, path or "/", canonical_query(query), canonical, signed, hashed_payload]
    )


def acs3_string_to_sign(canonical_request: str) -> str:
    """V3 StringToSign: the algorithm and the hex SHA-256 of the canonical request, no scope."""
    return f"{ACS3}\n{sha256_hex(canonical_request.encode())}"


def acs3_authorization(
    access_key_id: str,
    secret: str,
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    hashed_payload: str,
) -> str:
    """The V3 `Authorization` header; its fields are joined by commas without spaces."""
    canonical, signed = canonical_headers(headers)  # once: the header names them too
    request = _canonical_request(method, path, query, canonical, signed, hashed_payload)
    signature = hmac.digest(secret.encode(), acs3_string_to_sign(request).encode(), "sha256")
    return f"{ACS3} Credential={access_key_id},SignedHeaders={signed},Signature={signature.hex()}"
