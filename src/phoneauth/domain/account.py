"""The Account API for a signed-in user: change or remove the phone, the email address, the
password or the username, once identity is proven (see `account_verifications`).

Each change follows Logto's order of checks (logto-parity §5.3); the routes run the fresh-identity
and account-center checks that come before the body's business.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from phoneauth.connectors import UsageType
from phoneauth.domain.account_verifications import (
    EMAIL_CODE_RECORD,
    PHONE_CODE_RECORD,
    AccountVerifications,
    RecordNotFoundError,
    VerificationRecord,
    VerificationRecordStore,
)
from phoneauth.domain.email_blocklist import ensure_email_allowed
from phoneauth.domain.emails import normalise_email
from phoneauth.domain.password_policy import PwnedLookup, UserInfo, ensure_password_allowed
from phoneauth.domain.passwords import SamePasswordError, hash_any_password, verify_password
from phoneauth.domain.phone_numbers import parse_phone
from phoneauth.domain.sign_in_experience import MfaFactor, SignInExperienceSource, SignInIdentifier
from phoneauth.domain.usernames import ensure_username_allowed
from phoneauth.domain.users import (
    EmailInUseError,
    PhoneInUseError,
    User,
    UsernameInUseError,
    UserStore,
)
from phoneauth.domain.verification_codes import VerificationCodes, utc_now
from phoneauth.errors import PhoneauthError


class PhoneRequiredError(PhoneauthError):
    """The phone number is this tenant's sign-up identifier; it cannot be removed."""

    code = "user.phone_required"
    status = 400


class NoSignInMethodLeftError(PhoneauthError):
    """Removing the phone number would leave no way to sign in: add an email address or a
    username and a password the sign-in experience accepts first."""

    code = "user.no_sign_in_method_left"
    status = 400


class LastSignInMethodRequiredError(PhoneauthError):
    """The account needs at least one identifier (username, email or phone) to sign in with."""

    code = "user.last_sign_in_method_required"
    status = 400


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
        pwned: PwnedLookup | None = None,
    ) -> None:
        self.verifications = AccountVerifications(
            records=records, users=users, codes=codes, clock=clock
        )
        self.records = records
        self.users = users
        self.sign_in_experience = sign_in_experience
        self.pwned = pwned
        # The verification steps, under the names the routes have always called.
        self.user = self.verifications.user
        self.send_code = self.verifications.send_code
        self.send_email_code = self.verifications.send_email_code
        self.verify_code = self.verifications.verify_code
        self.verify_email_code = self.verifications.verify_email_code
        self.verify_password = self.verifications.verify_password
        self.ensure_identity_verified = self.verifications.ensure_identity_verified

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.verifications.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.verifications.clock = clock

    async def _new_identifier(
        self, tenant_id: str, user_id: str, record_id: str, kind: str, value: str
    ) -> VerificationRecord:
        """Logto's check of `newIdentifierVerificationRecordId`: a verified record of `kind`
        for exactly `value`, else 400 `verification_record.not_found`."""
        record = await self.verifications.record(tenant_id, user_id, record_id, kind)
        if not record.verified or record.value != value:
            raise RecordNotFoundError()
        return record

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
        record = await self._new_identifier(
            tenant_id, user_id, new_record_id, PHONE_CODE_RECORD, e164
        )
        if record.template_type is not UsageType.BIND_NEW_IDENTIFIER:
            raise RecordNotFoundError()
        owner = await self.users.find_by_phone(tenant_id, e164)
        if owner is not None and owner.id != user_id:
            raise PhoneInUseError()
        updated = await self.users.set_phone(tenant_id, user_id, e164)
        # The proof of ownership is spent: binding the number again needs a new code.
        await self.records.delete(tenant_id, record.id)
        return updated

    async def set_primary_email(
        self,
        tenant_id: str,
        user_id: str,
        email: str,
        new_record_id: str,
        *,
        verification_id: str | None,
    ) -> User:
        """Logto's `POST /my-account/primary-email`: a fresh identity (401), the email blocklist
        (422), then a verified `EmailVerificationCode` record for this very address (400), then
        uniqueness (422).

        Raises:
            PermissionDeniedError, InvalidEmailError, RecordNotFoundError, EmailInUseError, and
            the `email_blocklist` errors.
        """
        await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        address = normalise_email(email)
        experience = await self.sign_in_experience.current(tenant_id)
        ensure_email_allowed(experience.email_blocklist_policy, address)
        record = await self._new_identifier(
            tenant_id, user_id, new_record_id, EMAIL_CODE_RECORD, address
        )
        owner = await self.users.find_by_email(tenant_id, address)
        if owner is not None and owner.id != user_id:
            raise EmailInUseError()
        updated = await self.users.update(tenant_id, user_id, {"primary_email": address})
        await self.records.delete(tenant_id, record.id)  # spent, as for a phone
        return updated

    async def remove_primary_email(
        self, tenant_id: str, user_id: str, *, verification_id: str | None
    ) -> User:
        """Logto's `DELETE /my-account/primary-email`: a fresh identity (401), then the account
        must keep a username or a phone (400 `user.last_sign_in_method_required`).

        Raises:
            PermissionDeniedError, LastSignInMethodRequiredError.
        """
        await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        user = await self.user(tenant_id, user_id)
        if user.username is None and user.phone is None:
            raise LastSignInMethodRequiredError()
        if user.primary_email is None:
            return user
        return await self.users.update(tenant_id, user_id, {"primary_email": None})

    async def remove_primary_phone(
        self, tenant_id: str, user_id: str, *, verification_id: str | None
    ) -> User:
        """Remove the user's phone, unless that would lock them out.

        Logto refuses when the phone is the tenant's sign-up identifier; phoneauth also refuses
        when no other sign-in method is left (the email address by code, or username or email
        address with the password, enabled for sign-in). A
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
        by_email = user.primary_email is not None and (
            experience.email_code_sign_in()
            or (user.has_password and experience.password_sign_in(SignInIdentifier.EMAIL))
        )
        if not (by_email or (user.username and user.has_password and username_password)):
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
        password, an email or a phone to prove it with; the tenant's password policy (422
        `password.rejected`); never the current password again (422 `user.same_password`).

        Raises:
            PermissionDeniedError, PasswordRejectedError, SamePasswordError.
        """
        user = await self.user(tenant_id, user_id)
        if needs_identity_for_password(user):
            await self.ensure_identity_verified(tenant_id, user_id, verification_id)
        experience = await self.sign_in_experience.current(tenant_id)
        await ensure_password_allowed(
            password, experience.password_policy, user=user_info(user), pwned=self.pwned
        )
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        if await asyncio.to_thread(verify_password, user.password_hash, password):
            raise SamePasswordError()
        digest = await asyncio.to_thread(hash_any_password, password)
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


def needs_identity_for_password(user: User) -> bool:
    """Logto's `hasSecurityVerificationMethod`: something to prove the identity with."""
    return user.has_password or user.primary_email is not None or user.phone is not None


def user_info(user: User) -> UserInfo:
    """What the password policy's user-info rule compares with (Logto's `getUserInfo`)."""
    return UserInfo.of(user.name, user.username, user.primary_email, user.phone)
