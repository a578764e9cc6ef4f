"""Random ids in Logto's style: lower-case letters and digits, 21 long by default."""

from __future__ import annotations

import secrets

ALPHABET = b"abcdefghijklmnopqrstuvwxyz234567"  # base32's, lower-case: within Logto's
# Byte b becomes ALPHABET[b % 32]: 256 is a multiple of 32, so each character stays uniform.
_TO_ALPHABET = bytes(ALPHABET[b % 32] for b in range(256))


def new_id(length: int = 21) -> str:
    """`length` characters of a-z and 2-7, 5 random bits each (21 carry 105 bits).

    One random draw mapped by `bytes.translate`, all in C: `secrets.choice` per character, and
    then base64's base32 encoder (plain Python in 3.11), each cost more than the rest of a
    send-code request's id handling (`make bench`)."""
    return secrets.token_bytes(length).translate(_TO_ALPHABET).decode("ascii")
