"""Tencent Cloud SMS delivery statuses by `PullSmsSendStatus` (2021-01-11), TC3-signed like sends.

The API is a queue per SmsSdkAppId: each status is answered once, up to `Limit` (≤ 100) per call,
and it must be enabled by Tencent's SMS support first. `ReportStatus` is `SUCCESS` or `FAIL`;
`Description` carries the carrier's word (`DELIVRD`, `UNDELIV`, …), kept as the code.
"""

from __future__ import annotations

from typing import Any

import httpx

from phoneauth.connectors.errors import ConnectorError, InvalidResponseError
from phoneauth.connectors.providers.tencent import responses
from phoneauth.connectors.receipts import DeliveryReport, ReportedStatus

ACTION = "PullSmsSendStatus"
LIMIT = 100
STATUSES = {"SUCCESS": ReportedStatus.DELIVERED, "FAIL": ReportedStatus.UNDELIVERED}


def document(sdk_app_id: str) -> dict[str, Any]:
    return {"SmsSdkAppId": sdk_app_id, "Limit": LIMIT}


def reports(response: httpx.Response) -> list[DeliveryReport]:
    """The statuses in Tencent's answer; its `Error` (HTTP 200 too) as a `ConnectorError`."""
    reply = responses.reply_object(response)
    if reply is None:
        raise InvalidResponseError("No `Response` object.", http_status=response.status_code)
    error = reply.get("Error")
    if isinstance(error, dict):
        code, text = error.get("Code"), error.get("Message")
        found = responses.provider_error(code, text, response.status_code, reply.get("RequestId"))
        raise found or ConnectorError(
            f"Tencent Cloud SMS refused {ACTION} ({code}): {text}",
            provider_code=code,
            provider_message=text,
            http_status=response.status_code,
        )
    found_reports = []
    for item in reply.get("PullSmsSendStatusSet") or []:
        status = STATUSES.get(str(item.get("ReportStatus")))
        if status is None or not item.get("SerialNo"):
            continue  # not a delivery status we can place
        code = item.get("Description") or item.get("ReportStatus")
        found_reports.append(DeliveryReport(str(item["SerialNo"]), status, str(code)))
    return found_reports
