"""The Management API (Logto's paths and shapes), served at /api and /t/{tenant_id}/api."""

from __future__ import annotations

from fastapi import APIRouter

from phoneauth.domain.admin_keys import ForbiddenError, UnauthorizedError
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.web.errors import error_responses
from phoneauth.web.management import (
    account_center,
    application_secrets,
    applications,
    connectors,
    delivery_reports,
    message_logs,
    organizations,
    resources,
    roles,
    sign_in_experience,
    sms_protection,
    sms_routing,
    tenants,
    user_changes,
    users,
    verification_codes,
)

CODE_ROUTERS = [verification_codes.router]
"""Included first, right under the app: FastAPI tries routes in order, through every level of
included routers, and that walk cost a send-code request more than its rate limits."""

ROUTERS = [
    tenants.router,
    message_logs.router,
    delivery_reports.router,
    connectors.router,
    sms_routing.router,
    sms_protection.router,
    sign_in_experience.router,
    account_center.router,
    users.router,
    user_changes.router,
    organizations.router,
    applications.router,
    application_secrets.router,
    roles.router,
    resources.router,
]
"""Each resource module contributes one router; add new ones here."""


RESPONSES = error_responses(UnauthorizedError, ForbiddenError, TenantNotFoundError)


def management_router() -> APIRouter:
    """The Management API but its `CODE_ROUTERS`, which the app includes on their own."""
    router = APIRouter(responses=RESPONSES)
    for resource in ROUTERS:
        router.include_router(resource)
    return router
