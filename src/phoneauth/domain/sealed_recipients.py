"""The recipient's number, sealed, for providers whose status query needs it (Aliyun).

The message log keeps only masked numbers. A provider that answers "what became of message X"
only when told the number too gets it from here: encrypted with the service's cipher when the
row is written, opened by the poller, and cleared by the store once the row is final or leaves
the polling window. Only the factories that need it get a sealed number at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from phoneauth.errors import PhoneauthError

_FIELD = "to"


class DocumentCipher(Protocol):
    """Authenticated encryption of small JSON documents (the service's `ConfigCipher`)."""

    def encrypt(self, document: dict[str, Any]) -> str: ...
    def decrypt(self, token: str) -> dict[str, Any]: ...


class SealedRecipients:
    def __init__(self, cipher: DocumentCipher, factory_ids: Iterable[str]) -> None:
        self.cipher = cipher
        self.factory_ids = frozenset(factory_ids)

    def seal(self, factory_id: str | None, recipient: str) -> str | None:
        """The sealed number for a message this factory sent; None for every other factory
        (and for an email address), so nothing is kept that no poller needs."""
        if factory_id not in self.factory_ids or not recipient.startswith("+"):
            return None
        return self.cipher.encrypt({_FIELD: recipient})

    def open(self, sealed: str | None) -> str | None:
        """The number back; None when there is none or it cannot be opened (the secret key
        changed since): that message is then not asked for, as if it had no number."""
        if sealed is None:
            return None
        try:
            recipient = self.cipher.decrypt(sealed).get(_FIELD)
        except (PhoneauthError, ValueError, AttributeError):
            return None
        return recipient if isinstance(recipient, str) else None
