"""The Experience API for end users (Logto's paths and shapes), at /api and /t/{tenant_id}/api.

No admin key: the interaction cookie is the credential, and only within one interaction.
"""

from __future__ import annotations

from phoneauth.web.experience import interaction, new_password_identity, profile, verification

ROUTERS = [interaction.router, verification.router, new_password_identity.router, profile.router]
"""Included by the app one by one (`phoneauth.web.app.api_routers`), in this order."""
