"""Request-body limits: a body past its limit is refused with `413 request.body_too_large`
before it is read, so a client cannot make the server hold a large body in memory.

Two places enforce one `BodyLimits`:

- FastAPI's `max_body_size`, set per included router in `create_app`, counts a body as it
  arrives and raises once the count passes the limit; the error handlers answer 413.
- `DeclaredBodyLimitMiddleware` refuses a request whose declared `Content-Length` already passes
  the limit, before routing. Starlette's limiter would refuse it too, but it swaps whatever the
  app answers to such a request for its own plain-text 413, so the envelope is sent from here.
  For the same reason the limit is not set on the app itself: Starlette's app-wide limiter sits
  outside every middleware of ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from phoneauth.web.console.support import PREFIX as CONSOLE_PREFIX
from phoneauth.web.console.support import error_page
from phoneauth.web.errors import body_too_large, envelope


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The largest body, in bytes, of the JSON APIs and of the console's forms."""

    api: int
    console: int

    def for_path(self, path: str) -> int:
        return self.console if is_console(path) else self.api


def is_console(path: str) -> bool:
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


class DeclaredBodyLimitMiddleware:
    """Plain ASGI: answers 413 to a declared `Content-Length` past the path's limit, unread."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = self.limits.for_path(scope["path"])
            declared = _declared_length(scope)
            if declared is not None and declared > limit:
                error = body_too_large(limit)
                request = Request(scope, receive)
                response: Response
                if is_console(scope["path"]):  # the console answers pages, never JSON
                    response = error_page(request, error.status, "Too large", error.message)
                else:
                    response = envelope(error.status, error.code, error.message, error.details)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    # The raw list, not `Headers`: every request passes here (ASGI names come lower-case).
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses such a request before it gets here
    return None
