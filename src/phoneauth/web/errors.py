"""One JSON envelope for every non-2xx answer: `{"code", "message", "details"}`, plus Logto's
`data` where Logto's answer has one."""

from __future__ import annotations

import json
import logging
import uuid
import weakref
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from phoneauth.errors import PhoneauthError, UnstorableTextError

log = logging.getLogger("phoneauth.web")


class ErrorBody(BaseModel):
    """The body of every non-2xx answer."""

    code: str = Field(examples=["verification_code.expired"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    data: Any = Field(
        default=None,
        description="Only where Logto's answer has it: e.g. `{issues}` of `password.rejected`, "
        "`{missingProfile}` of `user.missing_profile`.",
    )


class InvalidInputError(PhoneauthError):
    """The request body, query or path is invalid; `details.errors` names each field."""

    code = "guard.invalid_input"
    status = 400


class BodyTooLargeError(PhoneauthError):
    """The request body is larger than this server accepts; `details.max_bytes` says how large
    it may be."""

    code = "request.body_too_large"
    status = 413


def body_too_large(limit: object) -> BodyTooLargeError:
    """The error for a body past `limit` bytes (see `phoneauth.web.body_limit`)."""
    if not isinstance(limit, int):
        return BodyTooLargeError()
    return BodyTooLargeError(
        f"The request body is larger than this server accepts (at most {limit} bytes).",
        max_bytes=limit,
    )


def refused_body(request: Request) -> BodyTooLargeError:
    """The error for the body FastAPI's limit refused (Starlette's bare 413) while it streamed in,
    naming the limit in force for the route that refused it."""
    return body_too_large(request.scope.get(MAX_BODY_SIZE_SCOPE_KEY))


def page_answer(error: PhoneauthError) -> tuple[int, dict[str, str]]:
    """The status and headers of a page that shows a coded error (the console's, the end-user
    pages'): its own status (a 5xx for one without an HTTP meaning), and `Retry-After` for the
    errors that say when to come back (429, 503)."""
    status = error.status if 400 <= error.status < 600 else 500
    retry_after = error.details.get("retry_after")
    return status, {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else {}


def error_responses(*errors: type[PhoneauthError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` listing, per status, the stable error codes a route may answer."""
    codes: dict[int, list[str]] = defaultdict(list)
    classes: list[type[PhoneauthError]] = [InvalidInputError, *errors]
    for error in classes:
        if error.code not in codes[error.status]:
            codes[error.status].append(error.code)
    return {
        status: {
            "model": ErrorBody,
            "description": "Error codes: " + ", ".join(f"`{code}`" for code in names),
        }
        for status, names in sorted(codes.items())
    }


class EnvelopeResponse(JSONResponse):
    """An error's JSON. An error may name what the client sent (a value in `details`, in the
    message), and text from a JSON body may hold a lone surrogate (`"\\ud800"`), which UTF-8
    cannot encode: such an answer is written with JSON's escapes instead of a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, separators=(",", ":")).encode("ascii")


def envelope(
    status: int,
    code: str,
    message: str,
    details: object = None,
    headers: Mapping[str, str] | None = None,
    data: object = None,
) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message, "details": details or {}}
    if data is not None:
        body["data"] = data
    return EnvelopeResponse(body, status_code=status, headers=headers)


async def _phoneauth_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, PhoneauthError)  # noqa: S101 - registered for this type only
    retry_after = error.details.get("retry_after")
    # Rate limits, lockouts and database trouble (503 server.busy, server.unavailable) say when
    # to come back, in the header HTTP clients understand.
    headers = {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None
    return envelope(error.status, error.code, error.message, error.details, headers, error.data)


def _field(issue: Mapping[str, Any]) -> str:
    """The dotted location; a body that is not JSON at all is `body` (FastAPI appends the
    character offset where decoding failed, which names no field)."""
    if issue.get("type") == "json_invalid":
        return str(issue["loc"][0])
    return ".".join(str(part) for part in issue["loc"])


async def _invalid_input(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    problems = [{"field": _field(issue), "message": issue["msg"]} for issue in error.errors()]
    return envelope(400, InvalidInputError.code, "The request is invalid.", {"errors": problems})


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_ALLOWED_CACHE_SIZE = 1024
_allowed_by_app: weakref.WeakKeyDictionary[Any, dict[str, str | None]] = weakref.WeakKeyDictionary()
"""`Allow` by path, per app (weakly: an app that is gone takes its entries with it)."""


def _allowed_methods(request: Request) -> str | None:
    """Every method the path answers, asked of the router itself. Starlette's `Allow` names
    only the first route matching the path, and FastAPI has one route per method, so the
    header it builds for TRACE /connectors would hide POST. Asking walks every route once per
    method (2 ms here), so the answer is kept per path, a bounded number of them."""
    known = _allowed_by_app.setdefault(request.app, {})
    path = request.scope["path"]
    if path in known:
        return known[path]
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        # HEAD is answered wherever GET is (`head_requests`), though no route names it.
        if any(
            route.matches({**request.scope, "method": "GET" if method == "HEAD" else method})[0]
            is Match.FULL
            for route in routes
        )
    ]
    if len(known) >= _ALLOWED_CACHE_SIZE:
        known.clear()
    known[path] = answer = ", ".join(allowed) if allowed else None
    return answer


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    if error.status_code == BodyTooLargeError.status:
        # FastAPI's body limit, raised while the body streams in, as soon as the count passes
        # the limit in force for this route: the rest is never read.
        return await _phoneauth_error(request, refused_body(request))
    code = {404: "entity.not_found", 405: "request.method_not_allowed"}.get(
        error.status_code, "request.general"
    )
    headers = dict(error.headers or {})  # 405's `Allow`, 401's `WWW-Authenticate`...
    if error.status_code == 405:
        allowed = _allowed_methods(request)
        if allowed is not None:
            headers["Allow"] = allowed
    return envelope(error.status_code, code, str(error.detail), headers=headers or None)


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, ClientDisconnect):
        # The client went away while its body was read (a closed tab, a load generator
        # stopping): nobody reads this answer, and it is no bug of ours.
        log.info("client disconnected before its request was read")
        return envelope(400, "request.client_disconnected", "The client disconnected.")
    correlation_id = uuid.uuid4().hex
    log.error("unexpected error %s", correlation_id, exc_info=error)
    return envelope(
        500,
        "unknown",
        "Something went wrong on our side; the administrator can find it by its correlation id.",
        {"correlation_id": correlation_id},
    )


async def _unencodable(request: Request, error: Exception) -> JSONResponse:
    """A lone surrogate from a JSON body (`"\\ud800"`: Python's JSON reader takes it) that
    reached a check which encodes its text (pydantic building the message of a refused value
    that names it, a library): the client's text, refused as invalid input. Any other
    encoding failure is ours, a 500."""
    assert isinstance(error, UnicodeEncodeError)  # noqa: S101 - registered for this type only
    if error.reason != "surrogates not allowed":
        return await _unexpected(request, error)
    return await _phoneauth_error(request, UnstorableTextError())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PhoneauthError, _phoneauth_error)
    app.add_exception_handler(RequestValidationError, _invalid_input)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(UnicodeEncodeError, _unencodable)
    app.add_exception_handler(Exception, _unexpected)
