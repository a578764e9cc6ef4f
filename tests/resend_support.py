"""For tests of other rules that send codes to one number in a row: the resend cooldown off
(the resend rules of issue 16 have tests of their own)."""

from __future__ import annotations

from typing import Any

NO_COOLDOWN: dict[str, Any] = {"verificationCodePolicy": {"resendCooldownSeconds": 0}}
"""A `PATCH /api/tenant/settings` body: codes kept across resends, no wait between sends."""
