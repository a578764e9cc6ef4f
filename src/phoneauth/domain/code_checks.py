"""Checking a code someone typed: Logto's checks in Logto's order, each guess paid for first.

Its own module because checking has rules of its own (the order of Logto's refusals, an
attempt claimed atomically before a wrong guess is answered, the code consumed once by one
conditional write, every outcome counted) and shares only the stored record and its hash with
sending. The code engine holds one `CodeChecks`; its `verify` and `verify_email` are these.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import datetime

from phoneauth.connectors import UsageType
from phoneauth.crypto import same_hash
from phoneauth.domain.emails import InvalidEmailError, email_key, normalise_email
from phoneauth.domain.message_log import Channel
from phoneauth.domain.metrics import VERIFIED, Metrics
from phoneauth.domain.phone_numbers import (
    LOGTO_PHONE,
    InvalidPhoneNumberError,
    parse_phone,
    region_of,
)
from phoneauth.domain.rate_limits import RateLimits
from phoneauth.domain.sms_protection import SmsProtection
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.verification_code_errors import (
    CodeExpiredError,
    CodeMaxTriesError,
    CodeMismatchError,
    CodeNotFoundError,
    EmailMismatchError,
    PhoneMismatchError,
    VerificationCodeError,
)
from phoneauth.domain.verification_code_store import CodeHasher, VerificationCodeStore
from phoneauth.errors import PhoneauthError


def _same_email(claimed: str, address: str) -> bool:
    """Logto compares addresses exactly; phoneauth first normalises the domain's case."""
    try:
        return normalise_email(claimed.strip()) == address
    except InvalidEmailError:
        return False


def _same_phone(claimed: str, e164: str) -> bool:
    try:
        return parse_phone(claimed) == e164
    except InvalidPhoneNumberError:
        return False  # no number at all is another number


class CodeChecks:
    """Accepts a waiting code once, or says why not; `clock` tells expiry."""

    def __init__(
        self,
        *,
        store: VerificationCodeStore,
        rate_limits: RateLimits,
        hasher: CodeHasher,
        clock: Callable[[], datetime],
        metrics: Metrics,
        protection: SmsProtection | None = None,
    ) -> None:
        self.store = store
        self.rate_limits = rate_limits
        self.clock = clock
        self.metrics = metrics
        self.protection = protection
        self._hash = hasher

    async def verify(
        self,
        tenant: Tenant,
        phone: str,
        usage_type: UsageType | str,
        code: str,
        *,
        scope: str = "",
        ip: str | None = None,
        claimed: str | None = None,
    ) -> None:
        """Accept the code once, or raise; Logto's checks in Logto's order.

        `claimed` is the phone the caller says the code was sent to, when the code is found by
        `scope` (a verification record) rather than by phone: another number is Logto's
        `phone_mismatch`, checked right after the code is found. `ip` is accepted for symmetry
        with `send`; no rule uses it yet.

        Raises:
            VerificationBlockedError: too many wrong codes for this number lately.
            CodeNotFoundError, PhoneMismatchError, CodeExpiredError, CodeMaxTriesError,
            CodeMismatchError.
        """
        try:
            e164 = parse_phone(phone)
        except InvalidPhoneNumberError:
            # Logto's guard takes any digits, and no code was ever sent to such a number.
            if LOGTO_PHONE.fullmatch(phone.strip()):
                with suppress(ValueError):  # counted under a known usage type only
                    usage = UsageType(usage_type).value
                    self.metrics.code_checked(
                        tenant.id, Channel.SMS, None, usage, CodeNotFoundError.code
                    )
                raise CodeNotFoundError() from None
            raise
        mismatch = None
        if claimed is not None and not _same_phone(claimed, e164):
            mismatch = PhoneMismatchError()
        await self._check(tenant, e164, UsageType(usage_type), code, scope, mismatch)

    async def verify_email(
        self,
        tenant: Tenant,
        address: str,
        usage_type: UsageType | str,
        code: str,
        *,
        scope: str = "",
        claimed: str | None = None,
    ) -> None:
        """`verify` for a code sent by email to `address` (as `send_email` took it).

        `claimed` is the address the caller says the code went to (a verification record's
        code): any other spelling is Logto's case-sensitive `email_mismatch`.

        Raises:
            InvalidEmailError (400 `guard.invalid_input`), VerificationBlockedError,
            CodeNotFoundError, EmailMismatchError, CodeExpiredError, CodeMaxTriesError,
            CodeMismatchError.
        """
        key = email_key(normalise_email(address))
        mismatch = None
        if claimed is not None and not _same_email(claimed, address):
            mismatch = EmailMismatchError()
        await self._check(tenant, key, UsageType(usage_type), code, scope, mismatch)

    async def _check(
        self,
        tenant: Tenant,
        recipient: str,
        usage: UsageType,
        code: str,
        scope: str,
        mismatch: VerificationCodeError | None,
    ) -> None:
        """`_compare`, counted by its outcome (a test number's codes are not counted: no
        message reached a phone, so they would only skew the verify/send conversion)."""
        try:
            await self._compare(tenant, recipient, usage, code, scope, mismatch)
        except PhoneauthError as error:
            self._count_check(tenant, recipient, usage, error.code)
            raise
        self._count_check(tenant, recipient, usage, VERIFIED)
        if self.protection is not None and "@" not in recipient:
            await self.protection.verified(tenant, recipient)

    def _count_check(self, tenant: Tenant, recipient: str, usage: UsageType, outcome: str) -> None:
        if "@" in recipient:
            self.metrics.code_checked(tenant.id, Channel.EMAIL, None, usage.value, outcome)
        elif tenant.settings.fixed_code_for(recipient) is None:
            country = region_of(recipient)
            self.metrics.code_checked(tenant.id, Channel.SMS, country, usage.value, outcome)

    async def _compare(
        self,
        tenant: Tenant,
        recipient: str,
        usage: UsageType,
        code: str,
        scope: str,
        mismatch: VerificationCodeError | None,
    ) -> None:
        """Logto's checks in Logto's order, for a recipient as stored (E.164 or address key);
        `mismatch` is raised right after the code is found."""
        await self.rate_limits.ensure_not_locked(tenant, recipient)
        found = await self.store.find_live(tenant.id, recipient, usage.value, scope)
        if found is None:
            raise CodeNotFoundError()
        if mismatch is not None:
            raise mismatch
        now = self.clock()
        if now > found.expires_at:
            raise CodeExpiredError()
        max_attempts = tenant.settings.verification_code_policy.max_retry_attempts
        if found.try_count >= max_attempts:
            raise CodeMaxTriesError()
        # The comparison is pure computation, so it comes first: a right code is then consumed
        # in one conditional write (an attempt must be left), a wrong one claims an attempt.
        if same_hash(self._hash(tenant.id, recipient, usage, scope, code), found.code_hash):
            if not await self.store.consume(tenant.id, found.id, now, max_attempts):
                raise await self._why_refused(tenant.id, found.id, now)
            return
        if not await self.store.claim_attempt(tenant.id, found.id, max_attempts):
            raise await self._why_refused(tenant.id, found.id, now)
        # The `failedVerificationLimit`-th wrong code locks the recipient and is still answered
        # as the mismatch it is; the next send or verify is refused (see `RateLimits`).
        await self.rate_limits.record_failed_verification(tenant, recipient)
        raise CodeMismatchError()

    async def _why_refused(self, tenant_id: str, code_id: str, now: datetime) -> PhoneauthError:
        """After losing a race on a code: what the code has become meanwhile."""
        current = await self.store.get(tenant_id, code_id)
        if current is None or current.consumed_at is not None:
            return CodeNotFoundError()
        if now > current.expires_at:
            return CodeExpiredError()
        return CodeMaxTriesError()
