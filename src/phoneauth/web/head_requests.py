"""HEAD answered as GET is, without the body.

RFC 9110 asks every general-purpose server to answer HEAD wherever it answers GET, and uptime
checkers probe with it (UptimeRobot's HTTP monitor by default): FastAPI's routes answer only the
methods they name, so `HEAD /health` and `HEAD /sign-in` were `405`. Here, not per route: a
`HEAD` operation beside every `GET` would double the OpenAPI document's operations.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    """Plain ASGI. The app sees GET (the route, its headers and `Content-Length`); what it
    writes as the body is dropped here, whatever server runs the app. The scope outside keeps
    HEAD: the server, the access log and the metrics see the request as it came."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                message = {**message, "body": b""}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, headers_only)
        finally:
            # What routing added (the route, its parameters) is seen outside, as for a GET:
            # the metrics label a request by its route.
            scope.update({key: value for key, value in as_get.items() if key != "method"})
