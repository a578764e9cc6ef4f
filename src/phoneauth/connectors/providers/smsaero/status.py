"""SMS Aero's message statuses, as `/v2/sms/status` answers them, normalised."""

from __future__ import annotations

from phoneauth.connectors.receipts import DeliveryReport, ReportedStatus

# `data.status` of `/sms/status` (providers.md §2.2; two independent clients agree). Its
# callback's payload is undocumented (§2.5), so statuses are polled, never received.
STATUSES: dict[int, ReportedStatus] = {
    0: ReportedStatus.ACCEPTED,  # in the queue
    8: ReportedStatus.ACCEPTED,  # on moderation
    3: ReportedStatus.SENT,  # handed to the operator
    4: ReportedStatus.SENT,  # waiting for the operator's status
    1: ReportedStatus.DELIVERED,
    2: ReportedStatus.UNDELIVERED,
    6: ReportedStatus.FAILED,  # rejected
}


def report(message_id: str, data: object) -> DeliveryReport | None:
    """The report in an answer's `data`; None for a status SMS Aero does not document.

    `data` echoes the message text, the code in it: only the status is read, nothing kept."""
    if not isinstance(data, dict):
        return None
    raw = data.get("status")
    found = STATUSES.get(raw) if isinstance(raw, int) else None
    if found is None:
        return None
    return DeliveryReport(message_id, found, str(data.get("extendStatus") or raw))
