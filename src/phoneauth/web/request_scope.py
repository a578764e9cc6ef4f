"""Each HTTP request in its own database request scope (`phoneauth.storage.database`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from phoneauth.storage.database import request_scope


class RequestScopeMiddleware:
    """Plain ASGI, not `BaseHTTPMiddleware`: it adds a context variable and nothing else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_scope():
            await self.app(scope, receive, send)
