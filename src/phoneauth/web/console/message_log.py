"""Console: Message log: recent sends of the tenant, filtered by status, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from phoneauth.domain.message_log import MessageStatus
from phoneauth.web.console.support import ConsoleDep, ConsoleRoute, render

router = APIRouter(route_class=ConsoleRoute)
PAGE_SIZE = 20


@router.get("/message-log")
async def message_log_page(
    request: Request, console: ConsoleDep, status: str = "", page: int = 1
) -> HTMLResponse:
    chosen = next((s for s in MessageStatus if s.value == status), None)
    page = max(1, min(page, 10_000))
    found = await console.services.message_log.query(
        console.tenant.id, status=chosen, page=page, page_size=PAGE_SIZE
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    context = {
        "active": "message-log",
        "entries": found.entries,
        "total": found.total,
        "page": page,
        "pages": pages,
        "status": chosen.value if chosen else "",
        "statuses": [s.value for s in MessageStatus],
        "provider_names": {f.id: f.name for f in console.services.connectors.factories()},
    }
    return render(request, "console/message_log.html", context, console=console)
