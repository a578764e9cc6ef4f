"""The Experience API for end users (Logto's paths and shapes), at /api and /t/{tenant_id}/api.

No admin key: the interaction cookie is the credential, and only within one interaction.
"""

from __future__ import annotations

from fastapi import APIRouter

from phoneauth.web.experience import interaction, new_password_identity, profile, verification

ROUTERS = [interaction.router, verification.router, new_password_identity.router, profile.router]


def experience_router() -> APIRouter:
    router = APIRouter()
    for flow in ROUTERS:
        router.include_router(flow)
    return router
