"""GatewayAPI delivery status notifications (legacy REST): JSON POSTed to `callback_url`.

With an authentication token set on the webhook, GatewayAPI sends the same payload as a JWT
(HS256, keyed with that token) in `X-Gwapi-Signature` (providers.md §3.1, vector in §8.6). The
report is read from the verified claims, so an unsigned body is never trusted.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from phoneauth.connectors.receipts import (
    CallbackRequest,
    DeliveryReport,
    MalformedReportError,
    ReportedStatus,
    ReportSignatureError,
    ReportsNotSupportedError,
)

# GatewayAPI's `status` values: UNKNOWN, SCHEDULED, BUFFERED, ENROUTE are transient; ACCEPTED
# (taken by the operator, no handset report to come) stays `sent`; the rest are final.
STATUSES: dict[str, ReportedStatus] = {
    "UNKNOWN": ReportedStatus.SENT,
    "SCHEDULED": ReportedStatus.ACCEPTED,
    "BUFFERED": ReportedStatus.SENT,
    "ENROUTE": ReportedStatus.SENT,
    "ACCEPTED": ReportedStatus.SENT,
    "DELIVERED": ReportedStatus.DELIVERED,
    "EXPIRED": ReportedStatus.UNDELIVERED,
    "UNDELIVERABLE": ReportedStatus.UNDELIVERED,
    "DELETED": ReportedStatus.FAILED,
    "REJECTED": ReportedStatus.FAILED,
    "SKIPPED": ReportedStatus.FAILED,
}


class GatewayApiReceipts:
    """Reads GatewayAPI notifications for a connector's config (`webhookToken`)."""

    def read(self, config: Any, request: CallbackRequest) -> list[DeliveryReport]:
        if config.webhook_token is None:
            raise ReportsNotSupportedError(
                "Set the connector's webhook token to take GatewayAPI delivery reports."
            )
        token = request.headers.get("x-gwapi-signature", "")
        if not token:
            raise ReportSignatureError("The report has no X-Gwapi-Signature header.")
        try:
            with warnings.catch_warnings():
                # The token is whatever the operator typed in GatewayAPI's dashboard: a short
                # one is their choice, not a reason to warn on every report.
                warnings.simplefilter("ignore", InsecureKeyLengthWarning)
                claims = jwt.decode(
                    token, config.webhook_token.get_secret_value(), algorithms=["HS256"]
                )
        except jwt.PyJWTError:
            raise ReportSignatureError("The report's X-Gwapi-Signature does not verify.") from None
        try:
            body = json.loads(request.body)
        except (UnicodeDecodeError, ValueError):
            raise MalformedReportError("The report's JSON body cannot be read.") from None
        if not isinstance(body, dict) or body.get("id") != claims.get("id"):
            raise MalformedReportError("The report's body is not the signed notification.")
        message_id, word = claims.get("id"), str(claims.get("status", ""))
        status = STATUSES.get(word)
        if not isinstance(message_id, int | str) or not message_id or status is None:
            raise MalformedReportError("The report needs a message `id` and a known `status`.")
        code = claims.get("code")
        return [DeliveryReport(str(message_id), status, str(code) if code else word)]
