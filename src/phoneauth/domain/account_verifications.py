"""Account API verification records (Logto's `/api/verifications/*`): a code by SMS or email, or
the password, proving who the signed-in user is or that they own a new phone or address.

Logto's flow (logto-parity §5.2, §5.3). A code sent to the user's own phone or email address makes
a `UserPermissionValidation` record, and so does a correct password (a `Password` record); once
verified, its id in the `logto-verification-id` header proves a fresh identity check for ten
minutes. A code sent to another number or address makes a `BindNewIdentifier` record, which proves
ownership for `primary-phone` or `primary-email`. Unlike Logto, every record is bound to the user
who asked for it, so a leaked record id is useless to any other account.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from phoneauth.connectors import UsageType
from phoneauth.domain.emails import email_key, normalise_email
from phoneauth.domain.experience_errors import InvalidCredentialsError
from phoneauth.domain.passwords import hash_any_password, verify_password
from phoneauth.domain.sessions import NotSignedInError
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.users import User, UserStore
from phoneauth.domain.verification_codes import VerificationCodes, utc_now
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

log = logging.getLogger("phoneauth.account")

RECORD_TTL = timedelta(seconds=600)
"""Logto's verification record lifetime (`queries/verification-records.ts`)."""

PHONE_CODE_RECORD = "PhoneVerificationCode"
EMAIL_CODE_RECORD = "EmailVerificationCode"
PASSWORD_RECORD = "Password"
"""Logto's `VerificationType` names of the records kept here."""

IDENTITY_TEMPLATES = frozenset({UsageType.USER_PERMISSION_VALIDATION, UsageType.BIND_MFA})
"""What a caller may ask for when the code goes to the user's own phone or address."""


class RecordNotFoundError(PhoneauthError):
    """The verification record does not exist, has expired, or does not fit this request."""

    code = "verification_record.not_found"
    status = 400


class PermissionDeniedError(PhoneauthError):
    """Verify your identity first: send `logto-verification-id` with a verified record id."""

    code = "verification_record.permission_denied"
    status = 401


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """One record: `value` is the E.164 phone, the address (as `normalise_email` gives it), or
    for a `Password` record the user's id; `template_type` is None for a password."""

    id: str
    tenant_id: str
    user_id: str
    value: str
    template_type: UsageType | None
    verified: bool
    created_at: datetime
    expires_at: datetime
    type: str = PHONE_CODE_RECORD

    def live(self, now: datetime) -> bool:
        return now < self.expires_at

    def proves_identity(self) -> bool:
        """Logto's `identityVerified`: a password, or a code to the user's own identifier."""
        if self.type == PASSWORD_RECORD:
            return True
        return self.template_type is UsageType.USER_PERMISSION_VALIDATION


class VerificationRecordStore(Protocol):
    """Records of one tenant per call."""

    async def insert(self, record: VerificationRecord) -> None:
        """Save a new record (and drop the tenant's records that expired before it was made)."""
        ...

    async def get(self, tenant_id: str, record_id: str) -> VerificationRecord | None: ...
    async def mark_verified(self, tenant_id: str, record_id: str) -> None: ...
    async def delete(self, tenant_id: str, record_id: str) -> None: ...


@functools.cache
def _decoy_hash() -> str:
    """Checked against when the account has no password, so the answer takes as long."""
    return hash_any_password("phoneauth decoy password")


class AccountVerifications:
    """`POST /api/verifications/*` and the `logto-verification-id` check."""

    def __init__(
        self,
        *,
        records: VerificationRecordStore,
        users: UserStore,
        codes: VerificationCodes,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.records = records
        self.users = users
        self.codes = codes
        self.clock = clock

    async def user(self, tenant_id: str, user_id: str) -> User:
        """The signed-in user; a session outliving its user is no session."""
        found = await self.users.get(tenant_id, user_id)
        if found is None:
            raise NotSignedInError("The signed-in user no longer exists.")
        return found

    async def _open(
        self,
        user: User,
        value: str,
        usage: UsageType | None,
        kind: str,
        *,
        record_id: str | None = None,
        verified: bool = False,
    ) -> VerificationRecord:
        now = self.clock()
        record = VerificationRecord(
            record_id or new_id(),
            user.tenant_id,
            user.id,
            value,
            usage,
            verified,
            now,
            now + RECORD_TTL,
            kind,
        )
        await self.records.insert(record)
        return record

    async def send_code(
        self,
        tenant: Tenant,
        user_id: str,
        phone: str,
        template_type: UsageType | None = None,
        *,
        ip: str | None = None,
        locale: str | None = None,
    ) -> VerificationRecord:
        """Send a code by SMS and open a record for it; the template follows whose number it is.

        `template_type` (one of `IDENTITY_TEMPLATES`) applies only to the user's own number.

        Raises:
            InvalidPhoneNumberError, RateLimitedError, NoSmsConnectorError, ConnectorError.
        """
        user = await self.user(tenant.id, user_id)
        # No valid number is never the user's own: it could only be a new identifier.
        e164 = await self.codes.recipient(tenant, phone, UsageType.BIND_NEW_IDENTIFIER)
        if e164 == user.phone:
            usage = template_type or UsageType.USER_PERMISSION_VALIDATION
        else:
            usage = UsageType.BIND_NEW_IDENTIFIER
        record_id = new_id()
        await self.codes.send(tenant, e164, usage, ip=ip, locale=locale, scope=record_id)
        return await self._open(user, e164, usage, PHONE_CODE_RECORD, record_id=record_id)

    async def send_email_code(
        self,
        tenant: Tenant,
        user_id: str,
        email: str,
        template_type: UsageType | None = None,
        *,
        ip: str | None = None,
        locale: str | None = None,
    ) -> VerificationRecord:
        """`send_code` for an email address, through the tenant's Email connector.

        Raises:
            InvalidEmailError, RateLimitedError, NoEmailConnectorError, ConnectorError.
        """
        user = await self.user(tenant.id, user_id)
        address = normalise_email(email)
        own = user.primary_email is not None and email_key(user.primary_email) == email_key(address)
        if own:
            usage = template_type or UsageType.USER_PERMISSION_VALIDATION
        else:
            usage = UsageType.BIND_NEW_IDENTIFIER
        record_id = new_id()
        await self.codes.send_email(tenant, address, usage, ip=ip, locale=locale, scope=record_id)
        return await self._open(user, address, usage, EMAIL_CODE_RECORD, record_id=record_id)

    async def record(
        self, tenant_id: str, user_id: str, record_id: str, kind: str
    ) -> VerificationRecord:
        """A live record of this user and of this type (Logto's `...ByIdAndType`), else 400."""
        found = await self.records.get(tenant_id, record_id)
        if (
            found is None
            or found.user_id != user_id
            or found.type != kind
            or not found.live(self.clock())
        ):
            raise RecordNotFoundError()
        return found

    async def verify_code(
        self,
        tenant: Tenant,
        user_id: str,
        phone: str,
        record_id: str,
        code: str,
        *,
        ip: str | None = None,
    ) -> VerificationRecord:
        """Check the code of an SMS record and mark the record verified.

        Raises:
            RecordNotFoundError, PhoneMismatchError, VerificationBlockedError,
            CodeNotFoundError, CodeExpiredError, CodeMaxTriesError, CodeMismatchError.
        """
        record = await self.record(tenant.id, user_id, record_id, PHONE_CODE_RECORD)
        usage = record.template_type or UsageType.GENERIC
        # Logto's order: record, lockout, code found, then the phone (`phone_mismatch`).
        await self.codes.verify(
            tenant, record.value, usage, code, scope=record.id, ip=ip, claimed=phone
        )
        await self.records.mark_verified(tenant.id, record.id)
        return replace(record, verified=True)

    async def verify_email_code(
        self, tenant: Tenant, user_id: str, email: str, record_id: str, code: str
    ) -> VerificationRecord:
        """Check the code of an email record and mark the record verified.

        Raises:
            RecordNotFoundError, EmailMismatchError, VerificationBlockedError,
            CodeNotFoundError, CodeExpiredError, CodeMaxTriesError, CodeMismatchError.
        """
        record = await self.record(tenant.id, user_id, record_id, EMAIL_CODE_RECORD)
        usage = record.template_type or UsageType.GENERIC
        # Logto's order: record, lockout, code found, then the address (`email_mismatch`).
        await self.codes.verify_email(
            tenant, record.value, usage, code, scope=record.id, claimed=email
        )
        await self.records.mark_verified(tenant.id, record.id)
        return replace(record, verified=True)

    async def verify_password(
        self, tenant: Tenant, user_id: str, password: str
    ) -> VerificationRecord:
        """Logto's `POST /api/verifications/password`: a verified `Password` record when the
        password is the account's. Wrong passwords are counted as wrong codes are, against the
        account (Logto's sentinel keys them by user id).

        Raises:
            VerificationBlockedError, InvalidCredentialsError (422).
        """
        user = await self.user(tenant.id, user_id)
        limits = self.codes.rate_limits
        key = f"userId:{user.id}"  # no phone, address or username looks like this
        await limits.ensure_not_locked(tenant, key)
        stored = user.password_hash or _decoy_hash()
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        matches = await asyncio.to_thread(verify_password, stored, password)
        if not (user.password_hash and matches):
            await limits.record_failed_verification(tenant, key)
            log.info("wrong password in an identity check of user %s", user.id)
            raise InvalidCredentialsError()
        return await self._open(user, user.id, None, PASSWORD_RECORD, verified=True)

    async def ensure_identity_verified(
        self, tenant_id: str, user_id: str, record_id: str | None
    ) -> None:
        """The `logto-verification-id` check: a live, verified record of this very user that
        proves identity (a password, or a code to the user's own phone or address)."""
        found = None if not record_id else await self.records.get(tenant_id, record_id)
        if (
            found is None
            or found.user_id != user_id
            or not found.verified
            or not found.proves_identity()
            or not found.live(self.clock())
        ):
            raise PermissionDeniedError()
