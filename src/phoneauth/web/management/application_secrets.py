"""An application's secrets over the Management API (Logto's `/api/applications/{id}/secrets`).

phoneauth keeps a SHA-256 hash of each secret and its first four characters: a value is shown
once, in the answer that made it, and never again (Logto shows stored values; phoneauth cannot).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from phoneauth.domain.applications import (
    ApplicationNotFoundError,
    PublicApplicationSecretError,
    SecretExpiryError,
    SecretNameExistsError,
    SecretNotFoundError,
)
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.management.application_views import SecretCreate, SecretCreated, SecretRead

router = APIRouter(tags=["applications"])


@router.get(
    "/applications/{application_id}/secrets",
    response_model=list[SecretRead],
    summary="An application's secrets, oldest first, without their values",
    description="`value` is always null: phoneauth stores only a hash of each secret.",
    responses=error_responses(ApplicationNotFoundError),
)
async def list_secrets(
    application_id: str, tenant: ManagedTenantDep, request: Request
) -> list[SecretRead]:
    services = services_of(request)
    found = await services.applications.secrets(tenant.id, application_id)
    return [SecretRead.of(tenant.id, application_id, secret) for secret in found]


@router.post(
    "/applications/{application_id}/secrets",
    status_code=201,
    response_model=SecretCreated,
    summary="Add a secret to a Traditional or MachineToMachine application; its value, once",
    description=(
        "The answer's `value` is the only time the secret is shown: phoneauth keeps its hash. "
        "Native and SPA applications are public clients and take no secret."
    ),
    responses=error_responses(
        ApplicationNotFoundError,
        PublicApplicationSecretError,
        SecretNameExistsError,
        SecretExpiryError,
    ),
)
async def create_secret(
    application_id: str, tenant: ManagedTenantDep, request: Request, body: SecretCreate
) -> SecretCreated:
    services = services_of(request)
    expires_at = (
        None if body.expiresAt is None else datetime.fromtimestamp(body.expiresAt / 1000, tz=UTC)
    )
    stored, value = await services.applications.create_secret(
        tenant.id, application_id, body.name, expires_at
    )
    read = SecretRead.of(tenant.id, application_id, stored)
    return SecretCreated(**(read.model_dump() | {"value": value}))


@router.delete(
    "/applications/{application_id}/secrets/{name}",
    status_code=204,
    response_class=Response,
    summary="Delete a secret: clients that use it can no longer authenticate",
    responses=error_responses(ApplicationNotFoundError, SecretNotFoundError),
)
async def delete_secret(
    application_id: str, name: str, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    await services.applications.delete_secret(tenant.id, application_id, name)
    return Response(status_code=204)
