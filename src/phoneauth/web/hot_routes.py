"""The routes every sign-in by code passes through, dispatched ahead of FastAPI's own stack.

`POST /api/verification-codes` and `POST /api/verification-codes/verify` (and their
`/t/{tenant_id}/api/...` forms) call their endpoint functions directly, with the app's own
exception handlers. FastAPI's router and middleware layers, which each request re-enters
whenever it waits for the database, cost about 0.25 ms of CPU per request here, more than a
bare FastAPI endpoint's whole request (`make bench`: send-code went from 31 % to about 50 % of
the bare endpoint's requests/s with this shortcut).

The routes stay declared in FastAPI: the OpenAPI document is unchanged, and other methods on
these paths (405), other paths, an app with a `root_path`, and any app to which middleware has
been added go through FastAPI as before: the shortcut must never skip anyone's middleware.
Tests compare every answer of the shortcut with FastAPI's own for the same request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
TENANT_PREFIX = "/t/"


class PhoneauthApp(FastAPI):
    """FastAPI, with `add_hot_routes` for the few routes that skip its router."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._hot: dict[str, Endpoint] = {}

    def add_hot_routes(self, router: APIRouter, prefix: str) -> None:
        """Serve `router`'s POST routes ahead of the stack at `prefix` and under
        `/t/{tenant_id}{prefix}`; include the router as usual too (OpenAPI, other methods)."""
        for route in router.routes:
            if isinstance(route, APIRoute) and route.methods == {"POST"}:
                if inspect.signature(route.endpoint).parameters.keys() != {"request"}:
                    raise TypeError(f"{route.path}: a hot route takes only the request")
                self._hot[prefix + route.path] = route.endpoint

    def _hot_endpoint(self, path: str) -> tuple[Endpoint, dict[str, str]] | None:
        endpoint = self._hot.get(path)
        if endpoint is not None:
            return endpoint, {}
        if path.startswith(TENANT_PREFIX):
            tenant_id, slash, rest = path[len(TENANT_PREFIX) :].partition("/")
            endpoint = self._hot.get("/" + rest) if tenant_id and slash else None
            if endpoint is not None:
                return endpoint, {"tenant_id": tenant_id}
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope.get("root_path")
            and not self.root_path
            and not self.user_middleware
        ):
            found = self._hot_endpoint(scope["path"])
            if found is not None:
                await self._serve(scope, receive, send, *found)
                return
        await super().__call__(scope, receive, send)

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        endpoint: Endpoint,
        path_params: dict[str, str],
    ) -> None:
        scope["app"] = self
        scope["path_params"] = path_params
        request = Request(scope, receive, send)
        try:
            response = await endpoint(request)
        except Exception as error:
            handler = self._handler_for(error)
            if handler is None:
                raise
            answer = handler(request, error)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _handler_for(self, error: Exception) -> Callable[..., Any] | None:
        """The handler Starlette would pick: by status code for an HTTPException, else by the
        nearest class (`Exception` last, as its server-error middleware does)."""
        if isinstance(error, HTTPException) and error.status_code in self.exception_handlers:
            return self.exception_handlers[error.status_code]
        for cls in type(error).__mro__:
            if cls in self.exception_handlers:
                return self.exception_handlers[cls]
        return None
