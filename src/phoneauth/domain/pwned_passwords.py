"""Have I Been Pwned's k-anonymity range lookup: only the first five hex digits of the
password's SHA-1 leave the server, as in Logto's `rejects.pwned`."""

from __future__ import annotations

import hashlib
import logging

import httpx

log = logging.getLogger("phoneauth.passwords")

DEFAULT_RANGE_URL = "https://api.pwnedpasswords.com/range/"


class PwnedPasswords:
    """`await lookup(password)`: True when the password is in a known breach.

    An unreachable or failing service answers False (logged, never the password): a breach
    list outage must not stop every registration.
    """

    def __init__(self, client: httpx.AsyncClient, range_url: str = DEFAULT_RANGE_URL) -> None:
        self.client = client
        self.range_url = range_url

    async def __call__(self, password: str) -> bool:
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        try:
            response = await self.client.get(self.range_url + prefix)
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("the breached-password check is unavailable: %s", type(error).__name__)
            return False
        for line in response.text.splitlines():
            found, _, count = line.strip().partition(":")
            if found.upper() == suffix and count.strip() != "0":
                return True
        return False
