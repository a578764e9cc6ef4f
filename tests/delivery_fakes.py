"""Fake status APIs on 127.0.0.1 for the delivery pollers: SMS Aero's send and `/sms/status`,
Tencent's `PullSmsSendStatus` queue. Each answers as the provider documents it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tests.servers import serve_in_thread


@dataclass
class FakeSmsAero:
    """`statuses[id]` is what `/v2/sms/status` answers (SMS Aero's numeric status); a send gets
    the next id, queued (0). `failing` answers HTTP 500 to every status request."""

    url: str = ""
    statuses: dict[int, int] = field(default_factory=dict)
    asked: list[int] = field(default_factory=list)
    failing: bool = False
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(90001))

    def asgi(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/sms/send", self._send, methods=["POST"]),
                Route("/v2/sms/status", self._status, methods=["POST"]),
            ]
        )

    async def _send(self, request: Request) -> JSONResponse:
        sent = await request.json()
        sms_id = next(self._ids)
        self.statuses[sms_id] = 0
        data = {"id": sms_id, "from": sent["sign"], "number": sent["number"], "status": 0}
        return JSONResponse({"success": True, "data": data, "message": None})

    async def _status(self, request: Request) -> JSONResponse:
        if self.failing:
            return JSONResponse({"success": False, "message": "down"}, status_code=500)
        sms_id = int((await request.json())["id"])
        self.asked.append(sms_id)
        if sms_id not in self.statuses:
            return JSONResponse({"success": False, "data": None, "message": "Not found"})
        extend = {0: "queue", 1: "delivery", 2: "no delivery", 3: "transfer", 6: "reject"}
        status = self.statuses[sms_id]
        data = {"id": sms_id, "status": status, "extendStatus": extend.get(status, "?")}
        return JSONResponse({"success": True, "data": data, "message": None})


@dataclass
class FakeTencent:
    """`queue` holds PullSmsSendStatus items; each pull takes up to `Limit` of them, once."""

    url: str = ""
    queue: list[dict[str, Any]] = field(default_factory=list)
    pulls: int = 0

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/", self._api, methods=["POST"])])

    async def _api(self, request: Request) -> JSONResponse:
        assert request.headers["x-tc-action"] == "PullSmsSendStatus"
        assert request.headers["authorization"].startswith("TC3-HMAC-SHA256 Credential=")
        limit = int((await request.json())["Limit"])
        self.pulls += 1
        taken, self.queue = self.queue[:limit], self.queue[limit:]
        body = {"Response": {"PullSmsSendStatusSet": taken, "RequestId": f"r{self.pulls}"}}
        return JSONResponse(body, media_type="application/json")

    def report(self, serial: str, success: bool, description: str) -> None:
        status = "SUCCESS" if success else "FAIL"
        self.queue.append({"SerialNo": serial, "ReportStatus": status, "Description": description})


@contextmanager
def served(fake: Any) -> Iterator[Any]:
    with serve_in_thread(fake.asgi()) as url:
        fake.url = url
        yield fake


@dataclass
class RecordingProvider:
    """Any provider's `provider_fake` (its documented "accepted" answer) on a real socket,
    keeping every request it was sent."""

    handler: Callable[[httpx.Request], httpx.Response]
    url: str = ""
    seen: list[httpx.Request] = field(default_factory=list)

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._answer, methods=["POST"])])

    async def _answer(self, request: Request) -> Response:
        forwarded = httpx.Request(
            request.method,
            str(request.url),
            headers=request.headers.raw,
            content=await request.body(),
        )
        self.seen.append(forwarded)
        answer = self.handler(forwarded)
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
        )
