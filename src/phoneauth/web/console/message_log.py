"""Console: Message log: recent sends of the tenant, filtered, a page at a time.

Filtering by phone number posts the form: a number must not travel in a URL, which access logs
and browser history keep. The other filters work in the query string too (`?status=failed`), so a
link to the failed sends still works.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from phoneauth.connectors import UsageType
from phoneauth.domain.message_log import (
    Channel,
    DeliveryStatus,
    MessageLogEntry,
    MessageLogPage,
    MessageStatus,
)
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.web.console.support import Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.phone_input import default_region, dialled_number

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 20

STATUS_LABELS = {
    MessageStatus.SENT: "Sent",
    MessageStatus.FAILED: "Failed",
    MessageStatus.TEST: "Test number (not sent)",
}
"""`test` is a code for one of the tenant's test phone numbers: kept, never sent. A connector
test send is `sent` or `failed` and labelled "Connector test send" in the Usage column."""

DELIVERY_LABELS = {
    DeliveryStatus.ACCEPTED: "Waiting for the provider",
    DeliveryStatus.SENT: "On its way to the phone",
    DeliveryStatus.DELIVERED: "Delivered",
    DeliveryStatus.UNDELIVERED: "Not delivered",
    DeliveryStatus.FAILED: "Failed at the provider",
}
"""The provider's delivery report in words; the provider's own code is shown beside it."""


def delivery_in_words(entry: MessageLogEntry) -> str:
    """`Delivered after 4.3 s`, `Not delivered after 2 min`, or the state still awaited."""
    if entry.delivery_status is None:
        return ""
    label = DELIVERY_LABELS[entry.delivery_status]
    latency = entry.delivery_latency_ms
    if not entry.delivery_status.final or latency is None:
        return label
    seconds = latency / 1000
    if seconds < 60:
        return f"{label} after {seconds:.1f} s"
    if seconds < 3600:
        return f"{label} after {round(seconds / 60)} min"
    return f"{label} after {seconds / 3600:.1f} h"


def size_in_words(entry: MessageLogEntry) -> str:
    """`1 SMS · GSM-7 · 41 characters`; empty for an email or a send that reached no connector;
    "not known" where the provider keeps the text (Aliyun, Tencent, an HTTP gateway)."""
    if entry.channel is Channel.EMAIL or entry.factory_id is None:
        return ""
    if entry.encoding is None or entry.segments is None:
        return "Size not known: the provider writes the text"
    parts = "1 SMS" if entry.segments == 1 else f"{entry.segments} SMS parts"
    alphabet = "GSM-7" if entry.encoding == "GSM-7" else "Unicode (UCS-2)"
    return f"{parts} · {alphabet} · {entry.characters} characters"


@dataclass(frozen=True, slots=True)
class Filters:
    status: str = ""
    usage_type: str = ""
    connector: str = ""
    phone: str = ""
    page: int = 1
    delivery: str = ""


@router.get("/message-log")
async def message_log_page(
    request: Request,
    console: ConsoleDep,
    status: str = "",
    usage_type: str = "",
    connector: str = "",
    page: int = 1,
    delivery: str = "",
) -> HTMLResponse:
    filters = Filters(status, usage_type, connector, "", page, delivery)
    return await _page(request, console, filters)


@router.post("/message-log")
async def message_log_search(request: Request, console: ConsoleDep, form: FormDep) -> HTMLResponse:
    def text(name: str) -> str:
        value = form.get(name, "")
        return value.strip()[:64] if isinstance(value, str) else ""

    page = int(text("page")) if text("page").isdigit() else 1
    filters = Filters(
        text("status"), text("usage_type"), text("connector"), text("phone"), page, text("delivery")
    )
    return await _page(request, console, filters)


async def _page(request: Request, console: Console, filters: Filters) -> HTMLResponse:
    services = console.services
    status = next((s for s in MessageStatus if s.value == filters.status), None)
    usage = next((u for u in UsageType if u.value == filters.usage_type), None)
    delivery = next((d for d in DeliveryStatus if d.value == filters.delivery), None)
    providers = {f.id: f.name for f in services.connectors.factories()}
    connector = filters.connector if filters.connector in providers else None
    phone_error = None
    phone = None
    if filters.phone:
        region = default_region(request.headers.get("accept-language"))
        try:
            phone = parse_phone(dialled_number(region, filters.phone))
        except InvalidPhoneNumberError:
            phone_error = (
                "This is not a phone number: type it as dialled in your country, or with + and "
                "the country code."
            )
    page = max(1, min(filters.page, 10_000))
    found = MessageLogPage([], 0)
    if phone_error is None:
        found = await services.message_log.query(
            console.tenant.id,
            status=status,
            usage_type=usage,
            factory_id=connector,
            phone=phone,
            delivery_status=delivery,
            page=page,
            page_size=PAGE_SIZE,
        )
    context = {
        "active": "message-log",
        "entries": found.entries,
        "total": found.total,
        "page": page,
        "pages": max(1, -(-found.total // PAGE_SIZE)),
        "filters": Filters(
            status.value if status else "",
            usage.value if usage else "",
            connector or "",
            filters.phone,
            page,
            delivery.value if delivery else "",
        ),
        "filtered": bool(status or usage or connector or filters.phone or delivery),
        "phone_error": phone_error,
        "statuses": [(s.value, STATUS_LABELS[s]) for s in MessageStatus],
        "status_labels": {s: STATUS_LABELS[s] for s in MessageStatus},
        "usage_types": [u.value for u in UsageType],
        "deliveries": [(d.value, DELIVERY_LABELS[d]) for d in DeliveryStatus],
        "delivery_in_words": delivery_in_words,
        "size_in_words": size_in_words,
        "provider_names": providers,
    }
    return render(request, "console/message_log.html", context, console=console)
