"""One JSON envelope for every non-2xx answer: `{"code", "message", "details"}`."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from phoneauth.errors import PhoneauthError

log = logging.getLogger("phoneauth.web")


def envelope(status: int, code: str, message: str, details: object = None) -> JSONResponse:
    body = {"code": code, "message": message, "details": details or {}}
    return JSONResponse(body, status_code=status)


async def _phoneauth_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, PhoneauthError)  # noqa: S101 - registered for this type only
    return envelope(error.status, error.code, error.message, error.details)


async def _invalid_input(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for this type only
    problems = [
        {"field": ".".join(str(part) for part in issue["loc"]), "message": issue["msg"]}
        for issue in error.errors()
    ]
    return envelope(400, "guard.invalid_input", "The request is invalid.", {"errors": problems})


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)  # noqa: S101 - registered for this type only
    code = {404: "entity.not_found", 405: "request.method_not_allowed"}.get(
        error.status_code, "request.general"
    )
    return envelope(error.status_code, code, str(error.detail))


async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
    correlation_id = uuid.uuid4().hex
    log.error("unexpected error %s", correlation_id, exc_info=error)
    return envelope(
        500,
        "unknown",
        "Something went wrong on our side; the administrator can find it by its correlation id.",
        {"correlation_id": correlation_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(PhoneauthError, _phoneauth_error)
    app.add_exception_handler(RequestValidationError, _invalid_input)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
