"""Logto's `NewPasswordIdentity` verification (logto-parity §3.3, §3.4): registering with an
identifier and a password.

`verify` checks the identifier is free and the password meets the tenant's policy, and keeps only
the Argon2 hash in the interaction's record; `apply_to_profile` runs at Register identification.
A phone number or email address registered this way must also be proven by a code in the same
interaction: phoneauth never creates an account on a number or address nobody has shown to own
(Logto takes only a username here; phoneauth also takes what its sign-up identifiers name).
"""

from __future__ import annotations

import asyncio
from typing import Literal

from phoneauth.domain.email_blocklist import ensure_email_allowed
from phoneauth.domain.emails import email_key, normalise_email
from phoneauth.domain.experience_errors import VerificationFailedError
from phoneauth.domain.interactions import (
    EmailIdentifier,
    Interaction,
    Interactions,
    PhoneIdentifier,
    UsernameIdentifier,
    VerificationRecord,
    VerificationType,
)
from phoneauth.domain.password_policy import PwnedLookup, UserInfo, ensure_password_allowed
from phoneauth.domain.passwords import hash_any_password
from phoneauth.domain.phone_numbers import parse_phone
from phoneauth.domain.sign_in_experience import SignInExperience, SignInExperienceSource
from phoneauth.domain.usernames import ensure_username_allowed
from phoneauth.domain.users import EmailInUseError, PhoneInUseError, UsernameInUseError, UserStore
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

IdentifierType = Literal["username", "email", "phone"]


class SignUpMethodNotEnabledError(PhoneauthError):
    """This sign-up method is not enabled."""

    code = "user.sign_up_method_not_enabled"
    status = 422


def _sign_up_types(experience: SignInExperience) -> set[str]:
    """The identifier types a new account may be registered with."""
    found = {str(identifier) for identifier in experience.sign_up.identifiers}
    for item in experience.sign_up.secondary_identifiers:
        found |= {"email", "phone"} if item.identifier == "emailOrPhone" else {str(item.identifier)}
    return found


class NewPasswordIdentities:
    """`POST /api/experience/verification/new-password-identity` and its use at registration."""

    def __init__(
        self,
        *,
        interactions: Interactions,
        users: UserStore,
        sign_in_experience: SignInExperienceSource,
        pwned: PwnedLookup | None,
    ) -> None:
        self.interactions = interactions
        self.users = users
        self.sign_in_experience = sign_in_experience
        self.pwned = pwned

    async def verify(
        self, interaction: Interaction, kind: IdentifierType, value: str, password: str
    ) -> str:
        """The new record's id.

        Raises:
            SignUpMethodNotEnabledError: the identifier type is no sign-up identifier here.
            UsernameInUseError, PhoneInUseError, EmailInUseError, InvalidPhoneNumberError,
            InvalidEmailError, the `email_blocklist` errors, PasswordRejectedError.
        """
        tenant_id = interaction.tenant_id
        experience = await self.sign_in_experience.current(tenant_id)
        if kind not in _sign_up_types(experience):
            raise SignUpMethodNotEnabledError(type=kind)
        identifier: PhoneIdentifier | UsernameIdentifier | EmailIdentifier
        if kind == "username":
            await self.ensure_username_free(tenant_id, value, experience)
            identifier = UsernameIdentifier(value=value)
        elif kind == "email":
            email = normalise_email(value)
            ensure_email_allowed(experience.email_blocklist_policy, email)
            if await self.users.find_by_email(tenant_id, email) is not None:
                raise EmailInUseError()
            identifier = EmailIdentifier(value=email)
        else:
            phone = parse_phone(value)
            if await self.users.find_by_phone(tenant_id, phone) is not None:
                raise PhoneInUseError()
            identifier = PhoneIdentifier(value=phone)
        await ensure_password_allowed(
            password, experience.password_policy, user=UserInfo.of(value), pwned=self.pwned
        )
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        password_hash = await asyncio.to_thread(hash_any_password, password)
        record = VerificationRecord(
            id=new_id(),
            type=VerificationType.NEW_PASSWORD_IDENTITY,
            identifier=identifier,
            verified=True,
            password_hash=password_hash,
        )
        interaction.set_record(record)
        await self.interactions.save(interaction)
        return record.id

    async def ensure_username_free(
        self, tenant_id: str, username: str, experience: SignInExperience
    ) -> None:
        """422 `user.username_already_in_use`, compared as the username policy says."""
        case_sensitive = experience.username_policy.case_sensitive
        found = await self.users.find_by_username(
            tenant_id, username, case_sensitive=case_sensitive
        )
        if found is not None:
            raise UsernameInUseError()

    async def apply_to_profile(
        self, interaction: Interaction, experience: SignInExperience, record: VerificationRecord
    ) -> None:
        """Register identification with this record: the username policy, then uniqueness;
        the identifier and the hash join the pending profile.

        Raises:
            VerificationFailedError: a phone or address not also proven by code in this
                interaction.
            UsernameRejectedError, UsernameInUseError, PhoneInUseError, EmailInUseError.
        """
        profile = interaction.profile
        if isinstance(record.identifier, UsernameIdentifier):
            ensure_username_allowed(record.identifier.value, experience.username_policy)
            await self.ensure_username_free(
                interaction.tenant_id, record.identifier.value, experience
            )
            profile.username = record.identifier.value
        elif isinstance(record.identifier, EmailIdentifier):
            email = record.identifier.value
            proven = any(
                other.type is VerificationType.EMAIL_VERIFICATION_CODE
                and other.verified
                and email_key(other.identifier.value) == email_key(email)
                for other in interaction.records()
            )
            if not proven:
                raise VerificationFailedError()
            if await self.users.find_by_email(interaction.tenant_id, email) is not None:
                raise EmailInUseError()
            profile.primary_email = email
        else:
            phone = record.identifier.value
            proven = any(
                other.type is VerificationType.PHONE_VERIFICATION_CODE
                and other.verified
                and other.phone == phone
                for other in interaction.records()
            )
            if not proven:
                raise VerificationFailedError()
            if await self.users.find_by_phone(interaction.tenant_id, phone) is not None:
                raise PhoneInUseError()
            profile.primary_phone = phone
        profile.password_hash = record.password_hash
