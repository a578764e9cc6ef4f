"""Aliyun delivery statuses by `QuerySendDetails` (Dysmsapi 2017-05-25), signed like `SendSms`.

The query names one number, the send date (`yyyyMMdd`, Beijing time, the last 30 days) and the
`BizId` that `SendSms` returned; Aliyun answers that send's records in
`SmsSendDetailDTOs.SmsSendDetailDTO[]`. `SendStatus` is 1 waiting for the carrier's receipt,
2 failed, 3 delivered; `ErrCode` is the carrier's or Aliyun's word (`DELIVERED`, `UNDELIV`,
`isv.…`), kept as the provider code.
"""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from phoneauth.connectors.receipts import DeliveryReport, PendingMessage, ReportedStatus

ACTION = "QuerySendDetails"
PAGE_SIZE = "10"  # one BizId has one record per number; Aliyun allows 1 to 50
# Aliyun dates its records in Beijing time (UTC+8, no daylight saving), also on the intl site.
BEIJING = timezone(timedelta(hours=8))
_STATUSES = {1: ReportedStatus.SENT, 2: ReportedStatus.UNDELIVERED, 3: ReportedStatus.DELIVERED}
# A failed record whose code is Aliyun's own (`isv.`/`isp.`) never reached a carrier.
_PLATFORM_PREFIXES = ("isv.", "isp.")


def phone_number(e164: str) -> str:
    """`PhoneNumber` as documented: a mainland number as its 11 digits, any other as country
    code and number (no `+`)."""
    digits = e164.removeprefix("+")
    if digits.startswith("861") and len(digits) == 13:
        return digits[2:]
    return digits


def params(message: PendingMessage) -> dict[str, str] | None:
    """The business parameters for one message; None when its number is not known (a row
    written before the number was kept, or one whose sealed copy cannot be opened)."""
    if not message.recipient or not message.recipient.startswith("+"):
        return None
    return {
        "PhoneNumber": phone_number(message.recipient),
        "SendDate": message.sent_at.astimezone(BEIJING).strftime("%Y%m%d"),
        "BizId": message.provider_message_id,
        "PageSize": PAGE_SIZE,
        "CurrentPage": "1",
    }


def report(biz_id: str, body: dict[str, Any]) -> DeliveryReport | None:
    """The message's status from Aliyun's OK answer; None while Aliyun has no record of it yet
    (or a status we cannot place)."""
    details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
    if not details:
        return None
    record = details[0]  # queried by BizId: the one record of this send to this number
    status = _STATUSES.get(int(record.get("SendStatus") or 0))
    if status is None:
        return None
    code = record.get("ErrCode") or None
    if status is ReportedStatus.UNDELIVERED and str(code).startswith(_PLATFORM_PREFIXES):
        status = ReportedStatus.FAILED
    return DeliveryReport(biz_id, status, None if code is None else str(code))
