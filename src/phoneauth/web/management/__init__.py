"""The Management API (Logto's paths and shapes), served at /api and /t/{tenant_id}/api."""

from __future__ import annotations

from fastapi import APIRouter

from phoneauth.domain.admin_keys import ForbiddenError, UnauthorizedError
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.web.errors import error_responses
from phoneauth.web.management import (
    connectors,
    message_logs,
    organizations,
    sign_in_experience,
    tenants,
    users,
    verification_codes,
)

ROUTERS = [
    tenants.router,
    verification_codes.router,
    message_logs.router,
    connectors.router,
    sign_in_experience.router,
    users.router,
    organizations.router,
]
"""Each resource module contributes one router; add new ones here."""


def management_router() -> APIRouter:
    router = APIRouter(
        responses=error_responses(UnauthorizedError, ForbiddenError, TenantNotFoundError)
    )
    for resource in ROUTERS:
        router.include_router(resource)
    return router
