"""Random ids in Logto's style: lower-case letters and digits, 21 long by default."""

from __future__ import annotations

import base64
import secrets


def new_id(length: int = 21) -> str:
    """`length` characters of base32 (a-z and 2-7, within Logto's alphabet), 5 random bits each.

    One C call instead of `length` calls to `secrets.choice`, which cost more than the rest of
    a send-code request's id handling together (`make bench`). 21 characters carry 105 bits.
    """
    raw = secrets.token_bytes((length * 5 + 7) // 8)
    return base64.b32encode(raw).decode("ascii").lower()[:length]
