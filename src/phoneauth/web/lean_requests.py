"""Request parsing without FastAPI's dependency and body machinery, for the hottest routes.

Declaring the body as a model parameter and the admin key and tenant as dependencies costs
about as much CPU as the whole rest of a send-code request (`make bench`: a route with a body
model and three trivial dependencies serves half the requests per second of a bare one; a
route that reads `Request` itself, 92 %). The routes that every sign-in passes through use these
helpers instead; the answers, the error envelope and the OpenAPI document stay the same.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from phoneauth.domain.tenants import Tenant
from phoneauth.web.deps import tenant_id_of
from phoneauth.wiring import Services

M = TypeVar("M", bound=BaseModel)


async def json_body(request: Request, model: type[M]) -> M:
    """The body validated as `model`; invalid → the same 400 `guard.invalid_input` as FastAPI's."""
    raw = await request.body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        issues = [
            {**issue, "loc": ("body", *issue["loc"])} for issue in error.errors(include_url=False)
        ]
        raise RequestValidationError(issues) from None


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` declaring `model` as the route's required JSON body."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema(by_alias=True)}},
        }
    }


async def managed_tenant(request: Request) -> tuple[Services, Tenant]:
    """The services and the tenant, after the admin key (as `ManagedTenantDep` does)."""
    services: Services = request.app.state.services
    tenant_id = tenant_id_of(request)
    await services.admin_keys.authenticate(request.headers.get("authorization"), tenant_id)
    return services, await services.tenants.get(tenant_id)
