"""Keys and the cryptography built on them: the master secret, encryption at rest, keyed hashes.

One master secret (PHONEAUTH_SECRET_KEY, or a file generated in the data folder) is stretched
with HKDF into one independent key per purpose, so a leak of one derived key reveals no other.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
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
    """Authenticated encryption for JSON documents: AES-256-GCM-SIV, reading Fernet too.

    Tokens are `v2.` and the URL-safe base64 of a random 96-bit nonce and the ciphertext with
    its tag. GCM-SIV because the nonces are random and a busy service seals a code per send: a
    repeated nonce would reveal only that two documents were equal, where plain GCM would give
    away its authentication key. Fernet (AES-128-CBC + HMAC-SHA256, what phoneauth wrote
    before) cost a tenth of a Management send-code request in Python code around its two
    primitives; its tokens (`gAAAAA...`) stay readable, so nothing stored needs rewriting.
    """

    _PREFIX = "v2."
    _NONCE_BYTES = 12

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        # Its own key, derived from the purpose's: never one key for two algorithms.
        self._aead = AESGCMSIV(derive_key(key, "aes-256-gcm-siv"))

    def encrypt(self, document: dict[str, Any]) -> str:
        nonce = os.urandom(self._NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, json.dumps(document).encode(), None)
        return self._PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def decrypt(self, token: str) -> dict[str, Any]:
        try:
            if token.startswith(self._PREFIX):
                raw = base64.urlsafe_b64decode(token[len(self._PREFIX) :])
                nonce, sealed = raw[: self._NONCE_BYTES], raw[self._NONCE_BYTES :]
                plain = self._aead.decrypt(nonce, sealed, None)
            else:
                plain = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidTag, InvalidToken, ValueError):  # ValueError: not base64, too short
            # A wrong key, a changed secret or a damaged token: all the same to the caller.
            raise SecretKeyError() from None
        document: dict[str, Any] = json.loads(plain)
        return document


def keyed_hash(key: bytes, message: str) -> str:
    """HMAC-SHA256, hex: what is stored instead of a code or an API key."""
    return hmac.digest(key, message.encode(), "sha256").hex()  # the C one-shot: 3x faster


def same_hash(left: str, right: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(left.encode(), right.encode())
