"""The Account API for a signed-in user: prove who you are by SMS, then change or remove the phone,
the password or the username.

Logto's flow (reference/logto.md §5.3 F). A code sent to the user's own phone makes a
`UserPermissionValidation` record; once verified, its id in the `logto-verification-id` header
proves a fresh identity check for ten minutes. A code sent to another number makes a
`BindNewIdentifier` record, which proves ownership of that number for `primary-phone`.
Unlike Logto, every record is bound to the user who asked for it, so a leaked record id is
useless to any other account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from phoneauth.connectors import UsageType
from phoneauth.domain.passwords import (
    SamePasswordError,
    check_policy,
    hash_password,
    verify_password,
)
from phoneauth.domain.phone_numbers import parse_phone
from phoneauth.domain.sessions import NotSignedInError
from phoneauth.domain.sign_in_experience import MfaFactor, SignInExperienceSource, SignInIdentifier
from phoneauth.domain.tenants import Tenant
from phoneauth.domain.usernames import ensure_username_allowed
from phoneauth.domain.users import PhoneInUseError, User, UsernameInUseError, UserStore
from phoneauth.domain.verification_codes import PhoneMismatchError as PhoneMismatchError
from phoneauth.domain.verification_codes import VerificationCodes, utc_now
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

RECORD_TTL = timedelta(seconds=600)
"""Logto's verification record lifetime (`queries/verification-records.ts`)."""

PHONE_CODE_RECORD = "PhoneVerificationCode"
IDENTITY_TEMPLATES = frozenset({UsageType.USER_PERMISSION_VALIDATION, UsageType.BIND_MFA})
"""What a caller may ask for when the code goes to the user's own phone."""


class RecordNotFoundError(PhoneauthError):
    """The verification record does not exist, has expired, or does not fit this request."""

    code = "verification_record.not_found"
    status = 400


class PermissionDeniedError(PhoneauthError):
    """Verify your identity first: send `logto-verification-id` with a verified record id."""

    code = "verification_record.permission_denied"
    status = 401


class PhoneRequiredError(PhoneauthError):
    """The phone number is this tenant's sign-up identifier; it cannot be removed."""

    code = "user.phone_required"
    status = 400


class NoSignInMethodLeftError(PhoneauthError):
    """Removing the phone number would leave no way to sign in: set a username and a password,
    and enable username + password sign-in, first."""

    code = "user.no_sign_in_method_left"
    status = 400


class LastSignInMethodRequiredError(PhoneauthError):
    """Removing the username would leave the account without an identifier to sign in with."""

    code = "user.last_sign_in_method_required"
    status = 400


@dataclass(frozen=True, slots=True)
class VerificationRecord:
    """A phone verification record (Logto's `PhoneVerificationCode` record)."""

    id: str
    tenant_id: str
    user_id: str
    phone: str
    template_type: UsageType
    verified: bool
    created_at: datetime
    expires_at: datetime

    def live(self, now: datetime) -> bool:
        return now < self.expires_at


class VerificationRecordStore(Protocol):
    """Records of one tenant per call."""

    async def insert(self, record: VerificationRecord) -> None:
        """Save a new record (and drop the tenant's records that expired before it was made)."""
        ...

    async def get(self, tenant_id: str, record_id: str) -> VerificationRecord | None: ...
    async def mark_verified(self, tenant_id: str, record_id: str) -> None: ...
    async def delete(self, tenant_id: str, record_id: str) -> None: ...


class Account:
    """What a signed-in user may do to their own account."""

    def __init__(
        self,
        *,
        records: VerificationRecordStore,
        users: UserStore,
        codes: VerificationCodes,
        sign_in_experience: SignInExperienceSource,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.records = records
        self.users = users
        self.codes = codes
        self.sign_in_experience = sign_in_experience
        self.clock = clock

    async def user(self, tenant_id: str, user_id: str) -> User:
        """The signed-in user; a session outliving its user is no session."""
        found = await self.users.get(tenant_id, user_id)
        if found is None:
            raise NotSignedInError("The signed-in user no longer exists.")
        return found

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
        """Send a code and open a record for it; the template follows whose number it is.

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
        now = self.clock()
        record = VerificationRecord(
            record_id, tenant.id, user.id, e164, usage, False, now, now + RECORD_TTL
        )
        await self.records.insert(record)
        return record

    async def _record(self, tenant_id: str, user_id: str, record_id: str) -> VerificationRecord:
        found = await self.records.get(tenant_id, record_id)
        if found is None or found.user_id != user_id or not found.live(self.clock()):
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
        """Check the code of a record and mark the record verified.

        Raises:
            RecordNotFoundError, PhoneMismatchError, VerificationBlockedError,
            CodeNotFoundError, CodeExpiredError, CodeMaxTriesError, CodeMismatchError.
        """
        record = await self._record(tenant.id, user_id, record_id)
        # Logto's order: record, lockout, code found, then the phone (`phone_mismatch`).
        await self.codes.verify(
            tenant, record.phone, record.template_type, code, scope=record.id, ip=ip, claimed=phone
        )
        await self.records.mark_verified(tenant.id, record.id)
        return replace(record, verified=True)

    async def ensure_identity_verified(
        self, tenant_id: str, user_id: str, record_id: str | None
    ) -> None:
        """The `logto-verification-id` check: a live, verified `UserPermissionValidation`
        record of this very user."""
        found = None if not record_id else await self.records.get(tenant_id, record_id)
        if (
            found is None
            or found.user_id != user_id
            or not found.verified
            or found.template_type is not UsageType.USER_PERMISSION_VALIDATION
            or not found.live(self.clock())
        ):
            raise PermissionDeniedError()

    async def set_primary_phone(
        self,
        tenant_id: str,
        user_id: str,
        phone: str,
        new_record_id: str,
        *,
        verification_id: str | None,
    ) -> User:
        """Replace the user's phone with a number they proved to own.

        Raises:
            PermissionDeniedError, InvalidPhoneNumberError, RecordNotFoundError, PhoneInUseError.
        """
        await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        e164 = parse_phone(phone)
        record = await self._record(tenant_id, user_id, new_record_id)
        if (
            not record.verified
            or record.template_type is not UsageType.BIND_NEW_IDENTIFIER
            or record.phone != e164
        ):
            raise RecordNotFoundError()
        owner = await self.users.find_by_phone(tenant_id, e164)
        if owner is not None and owner.id != user_id:
            raise PhoneInUseError()
        updated = await self.users.set_phone(tenant_id, user_id, e164)
        # The proof of ownership is spent: binding the number again needs a new code.
        await self.records.delete(tenant_id, record.id)
        return updated

    async def remove_primary_phone(
        self, tenant_id: str, user_id: str, *, verification_id: str | None
    ) -> User:
        """Remove the user's phone, unless that would lock them out.

        Logto refuses when the phone is the tenant's sign-up identifier; phoneauth also refuses
        when no other sign-in method is left (username + password, enabled for sign-in). A
        phone second factor goes with the phone. Removing an absent phone is a no-op.

        Raises:
            PermissionDeniedError, PhoneRequiredError, NoSignInMethodLeftError.
        """
        await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        user = await self.user(tenant_id, user_id)
        if user.phone is None:
            return user
        experience = await self.sign_in_experience.current(tenant_id)
        if SignInIdentifier.PHONE in experience.sign_up.identifiers:
            raise PhoneRequiredError()
        username_password = any(
            m.identifier is SignInIdentifier.USERNAME and m.password
            for m in experience.sign_in.methods
        )
        if not (user.username and user.has_password and username_password):
            raise NoSignInMethodLeftError()
        phone_factor = MfaFactor.PHONE_VERIFICATION_CODE.value
        if phone_factor in user.mfa_factors:
            factors = [f for f in user.mfa_factors if f != phone_factor]
            await self.users.set_mfa_factors(tenant_id, user_id, factors)
        return await self.users.set_phone(tenant_id, user_id, None)

    async def set_password(
        self, tenant_id: str, user_id: str, password: str, *, verification_id: str | None
    ) -> User:
        """Logto's `POST /my-account/password`: a fresh identity check when the account has a
        password or a phone to prove it with, the policy, and never the current password again.

        Raises:
            PermissionDeniedError, PasswordRejectedError, SamePasswordError.
        """
        user = await self.user(tenant_id, user_id)
        if user.has_password or user.phone is not None:
            await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        check_policy(password)
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        if await asyncio.to_thread(verify_password, user.password_hash, password):
            raise SamePasswordError()
        digest = await asyncio.to_thread(hash_password, password)
        return await self.users.set_password(tenant_id, user_id, digest)

    async def set_username(
        self, tenant_id: str, user_id: str, username: str | None, *, verification_id: str | None
    ) -> User:
        """Logto's `PATCH /my-account {username}`: a fresh identity (401); `null` only while
        another identifier is left (400); else the username policy, then uniqueness (422).

        Raises:
            PermissionDeniedError, LastSignInMethodRequiredError, UsernameRejectedError,
            UsernameInUseError.
        """
        await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        user = await self.user(tenant_id, user_id)
        if username is None:
            if user.phone is None and user.primary_email is None:
                raise LastSignInMethodRequiredError()
        else:
            experience = await self.sign_in_experience.current(tenant_id)
            ensure_username_allowed(username, experience.username_policy)
            owner = await self.users.find_by_username(
                tenant_id, username, case_sensitive=experience.username_policy.case_sensitive
            )
            if owner is not None and owner.id != user_id:
                raise UsernameInUseError()
        return await self.users.update(tenant_id, user_id, {"username": username})
