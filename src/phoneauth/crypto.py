"""Keys and the cryptography built on them: the master secret, encryption at rest, keyed hashes.

One master secret (PHONEAUTH_SECRET_KEY, or a file generated in the data folder) is stretched
with HKDF into one independent key per purpose, so a leak of one derived key reveals no other.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from phoneauth.errors import PhoneauthError
from phoneauth.files import create_private_file, private_folder

log = logging.getLogger("phoneauth")

SECRET_FILE = "secret.key"


class SecretKeyError(PhoneauthError):
    """The secret key cannot decrypt stored data: PHONEAUTH_SECRET_KEY changed or is wrong."""

    code = "server.secret_key_mismatch"
    status = 500


def load_master_secret(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret, else the one kept in the data folder (created on first start)."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip().encode()
    private_folder(data_dir)
    secret = secrets.token_urlsafe(48)
    if not create_private_file(path, secret + "\n"):
        # Another process generated it since we looked: theirs is the one every process uses.
        return path.read_text(encoding="utf-8").strip().encode()
    log.warning(
        "PHONEAUTH_SECRET_KEY is not set: generated one in %s. Keep that file (it decrypts "
        "connector secrets) or set PHONEAUTH_SECRET_KEY in production.",
        path,
    )
    return secret.encode()


def derive_key(master: bytes, purpose: str) -> bytes:
    """32 bytes for one purpose ("connector-config", "verification-code", ...)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"phoneauth", info=purpose.encode())
    return hkdf.derive(master)


class ConfigCipher:
    """Authenticated encryption (Fernet: AES-128-CBC + HMAC-SHA256) for JSON documents."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def encrypt(self, document: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(document).encode()).decode("ascii")

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            document: dict[str, Any] = json.loads(self._fernet.decrypt(token.encode("ascii")))
        except InvalidToken:
            raise SecretKeyError() from None
        return document


def keyed_hash(key: bytes, message: str) -> str:
    """HMAC-SHA256, hex: what is stored instead of a code or an API key."""
    return hmac.digest(key, message.encode(), "sha256").hex()  # the C one-shot: 3x faster


def same_hash(left: str, right: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(left.encode(), right.encode())
