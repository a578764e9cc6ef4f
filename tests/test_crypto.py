"""ConfigCipher: what it writes, what it still reads, and what it refuses."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.fernet import Fernet

from phoneauth.crypto import ConfigCipher, SecretKeyError, derive_key

KEY = derive_key(b"master secret", "connector-config")


def test_a_document_comes_back_as_it_went_in() -> None:
    cipher = ConfigCipher(KEY)
    document = {"code": "123456", "nested": {"list": [1, "two"]}, "unicode": "Zürich"}

    token = cipher.encrypt(document)

    assert token.startswith("v2.")
    assert "123456" not in token
    assert cipher.decrypt(token) == document


def test_each_token_is_new_even_for_the_same_document() -> None:
    cipher = ConfigCipher(KEY)

    assert cipher.encrypt({"code": "123456"}) != cipher.encrypt({"code": "123456"})


def test_tokens_written_by_earlier_versions_with_fernet_are_still_read() -> None:
    # What phoneauth stored before v2 tokens: Fernet over the same 32-byte key.
    old = Fernet(base64.urlsafe_b64encode(KEY)).encrypt(json.dumps({"apiKey": "s3"}).encode())

    assert ConfigCipher(KEY).decrypt(old.decode()) == {"apiKey": "s3"}


def test_another_secret_cannot_read_a_token() -> None:
    token = ConfigCipher(KEY).encrypt({"code": "123456"})
    other = ConfigCipher(derive_key(b"another master secret", "connector-config"))

    with pytest.raises(SecretKeyError):
        other.decrypt(token)


def test_a_key_for_another_purpose_cannot_read_a_token() -> None:
    token = ConfigCipher(KEY).encrypt({"code": "123456"})

    with pytest.raises(SecretKeyError):
        ConfigCipher(derive_key(b"master secret", "verification-code")).decrypt(token)


@pytest.mark.parametrize(
    "damage",
    [
        lambda token: token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
        lambda token: token[:10],
        lambda token: "v2.",
        lambda token: "v2.%%%not base64%%%",
        lambda token: token.replace("v2.", "v3.", 1),
        lambda token: "gAAAAAB-not-a-fernet-token",
    ],
    ids=["changed tag", "cut short", "empty", "not base64", "unknown version", "bad fernet"],
)
def test_a_damaged_token_is_refused_as_unreadable(damage: object) -> None:
    cipher = ConfigCipher(KEY)
    token = cipher.encrypt({"code": "123456"})

    with pytest.raises(SecretKeyError):
        cipher.decrypt(damage(token))  # type: ignore[operator]
