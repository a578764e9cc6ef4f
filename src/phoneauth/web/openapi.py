"""The OpenAPI document as phoneauth answers: validation errors are 400 `guard.invalid_input`,
and a body past the limit is 413 `request.body_too_large` on every operation that takes one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

BODY_TOO_LARGE = {
    "description": "Error codes: `request.body_too_large` (the body is larger than "
    "`PHONEAUTH_MAX_BODY_BYTES`; `details.max_bytes` says how large it may be)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


class Documented(Protocol):
    @property
    def router(self) -> APIRouter: ...

    def options(self) -> dict[str, Any]: ...


def install_openapi(app: FastAPI, documented: Sequence[Documented] = ()) -> None:
    """The document lists the `documented` routers (every route of the API) in their order; the
    app may try them in another. FastAPI's default 422 answers are dropped: phoneauth never sends
    them (its handler answers 400)."""

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            listed = APIRouter()
            for mount in documented:
                listed.include_router(mount.router, **mount.options())
            routes = listed.routes if documented else app.routes
            spec = get_openapi(title=app.title, version=app.version, routes=routes)
            for path in spec.get("paths", {}).values():
                for operation in path.values():
                    responses = operation.get("responses", {})
                    if "HTTPValidationError" in str(responses.get("422", "")):
                        del responses["422"]
                    if "requestBody" in operation:
                        # Any body past the limit, whatever its schema allows (`body_limit`).
                        responses.setdefault("413", BODY_TOO_LARGE)
            schemas = spec.get("components", {}).get("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]
