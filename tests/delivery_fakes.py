"""Fake status APIs on 127.0.0.1 for the delivery pollers: SMS Aero's send and `/sms/status`,
Tencent's `PullSmsSendStatus` queue, Aliyun's `SendSms` and `QuerySendDetails`. Each answers as
the provider documents it."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tests.servers import serve_in_thread

from phoneauth.domain.ports import ReportingConnector


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


@dataclass
class FakeAliyun:
    """Dysmsapi's RPC endpoint: it checks every V3 signature with the official SDK's util (the
    secret is `secret`), records each `SendSms` (BizId → number and Beijing send date) and
    answers `QuerySendDetails` for that BizId, number and date from `statuses[biz_id]`
    (`SendStatus`, `ErrCode`); none there is "no record yet". `failing` is a gateway error."""

    secret: str = "testsecret"
    url: str = ""
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)
    statuses: dict[str, tuple[int, str]] = field(default_factory=dict)
    queries: list[dict[str, str]] = field(default_factory=list)
    failing: bool = False
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(900619746936498440))

    def asgi(self) -> Starlette:
        return Starlette(routes=[Route("/", self._api, methods=["POST"])])

    async def _api(self, request: Request) -> JSONResponse:
        from alibabacloud_openapi_util.client import Client as OpenApiUtil

        body = await request.body()
        auth = request.headers["authorization"]
        names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        signed = {name: request.headers[name] for name in names}
        sdk_request = SimpleNamespace(pathname="/", method="POST", query={}, headers=signed)
        expected = OpenApiUtil.get_authorization(
            sdk_request, "ACS3-HMAC-SHA256", hashlib.sha256(body).hexdigest(), "testid", self.secret
        )
        if auth != expected or self.failing:
            error = {"RequestId": "R-bad", "Code": "SignatureDoesNotMatch", "Message": "bad"}
            return JSONResponse(error, status_code=400)
        params = dict(parse_qsl(body.decode(), strict_parsing=True))
        action = request.headers["x-acs-action"]
        if action == "SendSms":
            biz_id = f"{next(self._ids)}^0"
            today = datetime.now(UTC).astimezone(timezone(timedelta(hours=8)))
            self.sent[biz_id] = (params["PhoneNumbers"], today.strftime("%Y%m%d"))
            return JSONResponse({"Message": "OK", "RequestId": "R1", "Code": "OK", "BizId": biz_id})
        assert action == "QuerySendDetails"
        self.queries.append(params)
        number, date = self.sent.get(params["BizId"], ("", ""))
        known = (number.removeprefix("86"), date) == (params["PhoneNumber"], params["SendDate"])
        records = []
        if known and params["BizId"] in self.statuses:
            status, code = self.statuses[params["BizId"]]
            records.append(
                {
                    "PhoneNum": params["PhoneNumber"],
                    "SendStatus": status,
                    "ErrCode": code,
                    "TemplateCode": "SMS_154950909",
                    "Content": "【阿里云短信测试】您的验证码为******",
                    "SendDate": f"{date[:4]}-{date[4:6]}-{date[6:]} 10:00:00",
                    "ReceiveDate": f"{date[:4]}-{date[4:6]}-{date[6:]} 10:00:05",
                    "OutId": "",
                }
            )
        answer = {
            "Code": "OK",
            "Message": "OK",
            "RequestId": "R2",
            "TotalCount": len(records),
            "SmsSendDetailDTOs": {"SmsSendDetailDTO": records},
        }
        return JSONResponse(answer)


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


@dataclass
class Connectors:
    """`ReportingConnectors` over a dict, as connector management answers it."""

    rows: dict[tuple[str, str], ReportingConnector] = field(default_factory=dict)

    async def find(self, tenant_id: str, row_id: str) -> ReportingConnector | None:
        return self.rows.get((tenant_id, row_id))
