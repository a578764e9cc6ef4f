"""Vonage's `sig` parameter: signed SMS API requests and signed webhooks (delivery receipts).

Pure functions: the caller passes every parameter, `timestamp` included. The dashboard's
"signature method" picks the digest: `md5hash` is the plain "MD5 hash" (md5 over the string and the
secret); `md5`, `sha1`, `sha256` and `sha512` are HMACs keyed with the signature secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Literal

SignatureMethod = Literal["md5hash", "md5", "sha1", "sha256", "sha512"]


def signing_string(params: Mapping[str, object]) -> str:
    """`&name=value` for every parameter but `sig`, sorted by name, `&` and `=` in values as `_`."""
    parts = []
    for name in sorted(params):
        if name == "sig":
            continue
        value = str(params[name]).replace("&", "_").replace("=", "_")
        parts.append(f"&{name}={value}")
    return "".join(parts)


def sign(params: Mapping[str, object], secret: str, method: SignatureMethod = "md5") -> str:
    """The lower-case hex `sig` for these parameters."""
    text = signing_string(params).encode()
    if method == "md5hash":
        return hashlib.md5(text + secret.encode(), usedforsecurity=False).hexdigest()
    return hmac.new(secret.encode(), text, method).hexdigest()


def verify(params: Mapping[str, object], secret: str, method: SignatureMethod = "md5") -> bool:
    """Whether the `sig` among the parameters (a webhook's query or form) is Vonage's."""
    received = params.get("sig")
    if not isinstance(received, str):
        return False
    return hmac.compare_digest(received.lower(), sign(params, secret, method))
