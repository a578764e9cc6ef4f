"""Vonage SMS API delivery receipts (DLR): GET query, POST form or POST JSON, signed with `sig`.

Signed webhooks carry `timestamp`, `nonce` and `sig` (providers.md §6.1, §6.3), checked with the
connector's `signatureSecret` and `signatureMethod`; Vonage support enables them per account.
Without a signature secret the connector takes no receipts: an unsigned DLR proves nothing.
"""

from __future__ import annotations

import json
from typing import Any

from phoneauth.connectors.providers.vonage.signing import verify
from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    MalformedReportError,
    ReportedStatus,
    ReportSignatureError,
    ReportsNotSupportedError,
    one,
)

# The DLR `status` values of the SMS API spec, normalised. `accepted` and `buffered` are the
# carrier's, not the handset's; `unknown` means no final word, so it stays `sent`.
STATUSES: dict[str, ReportedStatus] = {
    "accepted": ReportedStatus.SENT,
    "buffered": ReportedStatus.SENT,
    "unknown": ReportedStatus.SENT,
    "delivered": ReportedStatus.DELIVERED,
    "expired": ReportedStatus.UNDELIVERED,
    "failed": ReportedStatus.FAILED,
    "rejected": ReportedStatus.FAILED,
}


def _params(request: CallbackRequest) -> list[tuple[str, str]]:
    """The DLR's fields, wherever the dashboard's setting puts them."""
    if request.method == "GET":
        return request.query()
    if request.content_type == "application/json":
        try:
            document = json.loads(request.body)
        except (UnicodeDecodeError, ValueError):
            raise MalformedReportError("The report's JSON body cannot be read.") from None
        if not isinstance(document, dict):
            raise MalformedReportError("The report must be a JSON object.")
        return [(str(key), _text(value)) for key, value in document.items()]
    return request.form()


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers as Vonage wrote them, null as `null`


class VonageReceipts:
    """Reads Vonage DLRs for a connector's config (`signatureSecret`, `signatureMethod`)."""

    def read(self, config: Any, request: CallbackRequest) -> list[DeliveryReport]:
        if config.signature_secret is None:
            raise ReportsNotSupportedError(
                "Set the connector's signature secret to take Vonage delivery receipts."
            )
        params = _params(request)
        fields = dict(params)
        if len(fields) != len(params):
            raise MalformedReportError("A report field is repeated.")
        if not fields.get("sig"):
            raise ReportSignatureError("The report has no `sig`.")
        secret = config.signature_secret.get_secret_value()
        if not verify(fields, secret, config.signature_method or "md5hash"):
            raise ReportSignatureError("The report's `sig` does not match.")
        word = one(params, "status").lower()
        status = STATUSES.get(word)
        if status is None:
            raise MalformedReportError(f"Unknown Vonage DLR status {word!r}.")
        error_code = fields.get("err-code")
        code = f"err-code {error_code}" if error_code and error_code != "0" else word
        return [DeliveryReport(one(params, "messageId"), status, code)]
