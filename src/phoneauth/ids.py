"""Random ids in Logto's style: lower-case letters and digits, 21 long by default."""

from __future__ import annotations

import secrets

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def new_id(length: int = 21) -> str:
    """`length` base-36 digits of one draw from `secrets`.

    One draw of `length * 6` bits instead of `length` calls to `secrets.choice`, which cost more
    than the rest of a send-code request's id handling together (`make bench`). 36**21 is about
    2**108.6, so reducing a 126-bit draw leaves a bias below 2**-17 per id.
    """
    value = int.from_bytes(secrets.token_bytes((length * 6 + 7) // 8), "big")
    digits = []
    for _ in range(length):
        value, digit = divmod(value, 36)
        digits.append(_ALPHABET[digit])
    return "".join(digits)
