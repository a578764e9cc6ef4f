"""Twilio's status callbacks: a form POST to `StatusCallback`, signed in `X-Twilio-Signature`.

The signature (providers.md §1.5) is base64 HMAC-SHA1, keyed with the account's Auth Token, over
the full URL Twilio called followed by every form parameter sorted by name as `name + value`.
Twilio signs the URL inconsistently with and without the port, so both forms are accepted, as
Twilio's own validator does. The SHA-256 shared-key variant is not supported (no key in config).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    MalformedReportError,
    ReportedStatus,
    ReportSignatureError,
    one,
)

# Twilio's `MessageStatus` values (SDK enum), normalised; inbound states are not reports.
STATUSES: dict[str, ReportedStatus] = {
    "accepted": ReportedStatus.ACCEPTED,
    "queued": ReportedStatus.ACCEPTED,
    "scheduled": ReportedStatus.ACCEPTED,
    "sending": ReportedStatus.SENT,
    "sent": ReportedStatus.SENT,
    "delivered": ReportedStatus.DELIVERED,
    "read": ReportedStatus.DELIVERED,
    "partially_delivered": ReportedStatus.UNDELIVERED,
    "undelivered": ReportedStatus.UNDELIVERED,
    "failed": ReportedStatus.FAILED,
    "canceled": ReportedStatus.FAILED,
}


def signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """`X-Twilio-Signature` for a form POST to `url` (a repeated name: its values sorted)."""
    text = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_forms(url: str) -> set[str]:
    """The URL without its port, and with it (the scheme's default added when absent)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {
        urlunsplit(parts._replace(netloc=f"{prefix}{host}")),
        urlunsplit(parts._replace(netloc=f"{prefix}{host}:{port}")),
    }


class TwilioReceipts:
    """Reads Twilio status callbacks for a connector's config (`authToken`)."""

    def read(self, config: Any, request: CallbackRequest) -> list[DeliveryReport]:
        received = request.headers.get("x-twilio-signature", "")
        if not received:
            raise ReportSignatureError("The report has no X-Twilio-Signature header.")
        params = request.form()
        token = config.auth_token.get_secret_value()
        expected = [signature(token, url, params) for url in url_forms(request.url)]
        if not any(hmac.compare_digest(received, value) for value in expected):
            raise ReportSignatureError("The report's X-Twilio-Signature does not match.")
        word = one(params, "MessageStatus").lower()
        status = STATUSES.get(word)
        if status is None:
            raise MalformedReportError(f"Unknown Twilio MessageStatus {word!r}.")
        error_code = dict(params).get("ErrorCode")
        code = error_code if error_code and error_code != "0" else word
        return [DeliveryReport(one(params, "MessageSid"), status, code)]
