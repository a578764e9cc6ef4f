"""The header that tells a client when it may ask for the next code, after a send it answered.

A refused send says it in `Retry-After` (429 `verification_code.resend_too_soon`); a send that
went through says it in `Resend-After`, so the pages count down from the answer, not from a
fixed timer, and Logto's bodies stay as they are.
"""

from __future__ import annotations

from fastapi import Response

from phoneauth.domain.tenants import Tenant

RESEND_AFTER_HEADER = "Resend-After"
SENT_WITH_RESEND_AFTER = {
    "description": "Sent. The header says when the next send may go.",
    "headers": {
        RESEND_AFTER_HEADER: {
            "description": "Seconds until the next send to this recipient for the same purpose "
            "(`verificationCodePolicy.resendCooldownSeconds`; 0: at once). Before, a send "
            "answers 429 `verification_code.resend_too_soon` with `Retry-After`.",
            "schema": {"type": "integer"},
        }
    },
}
"""The OpenAPI description of a send's answer that carries the header."""


def resend_after(tenant: Tenant) -> dict[str, str]:
    """Seconds until the next send for the same recipient and purpose may go (0: at once)."""
    return {
        RESEND_AFTER_HEADER: str(tenant.settings.verification_code_policy.resend_cooldown_seconds)
    }


def add_resend_after(response: Response, tenant: Tenant) -> None:
    response.headers.update(resend_after(tenant))
