"""Experience API verifications: send and verify SMS codes, check a password, MFA codes.

Each step leaves a verification record in the interaction (one per type); the identification,
profile and submit steps in `experience` read them. Logto's anti-enumeration is here: a
forgot-password code to an unknown phone, or a sign-in code to an unknown phone while registration
is closed, is created and counted but never sent, and the answer is the same. In those two flows
the answer never waits for the provider, for known phones either: a known phone's SMS goes out in
the background, so the answer's timing cannot tell a registered number (213 ms against 8 ms with
a provider taking 200 ms, before). The price: a provider failure there is logged, not answered.
"""

from __future__ import annotations

import asyncio
import logging

from phoneauth.connectors import UsageType, mask_phone
from phoneauth.domain.email_blocklist import ensure_email_allowed
from phoneauth.domain.emails import normalise_email
from phoneauth.domain.experience_errors import (
    EventForbiddenError,
    ForgotPasswordNotEnabledError,
    IdentifierNotFoundError,
    InvalidCredentialsError,
    MfaFactorNotEnabledError,
    SignInMethodNotEnabledError,
)
from phoneauth.domain.identifiers import IdentifierType, canonical, find_user, lockout_key
from phoneauth.domain.interactions import (
    EmailIdentifier,
    Interaction,
    InteractionEvent,
    Interactions,
    PhoneIdentifier,
    VerificationRecord,
    VerificationType,
)
from phoneauth.domain.passwords import decoy_hash, verify_password
from phoneauth.domain.sign_in_experience import (
    SignInExperience,
    SignInExperienceSource,
    SignInIdentifier,
    SignInMode,
)
from phoneauth.domain.tenants import Tenants
from phoneauth.domain.users import User, UserStore, UserSuspendedError
from phoneauth.domain.verification_codes import Delivery, VerificationCodes
from phoneauth.ids import new_id

log = logging.getLogger("phoneauth.experience")

TEMPLATE_BY_EVENT = {
    InteractionEvent.SIGN_IN: UsageType.SIGN_IN,
    InteractionEvent.REGISTER: UsageType.REGISTER,
    InteractionEvent.FORGOT_PASSWORD: UsageType.FORGOT_PASSWORD,
}


def guard_event(experience: SignInExperience, event: InteractionEvent) -> None:
    """Logto's `guardInteractionEvent`: the sign-in mode may close sign-in or registration."""
    mode = experience.sign_in_mode
    if (event is InteractionEvent.SIGN_IN and mode is SignInMode.REGISTER) or (
        event is InteractionEvent.REGISTER and mode is SignInMode.SIGN_IN
    ):
        raise EventForbiddenError()


class ExperienceVerifications:
    def __init__(
        self,
        *,
        interactions: Interactions,
        tenants: Tenants,
        users: UserStore,
        sign_in_experience: SignInExperienceSource,
        codes: VerificationCodes,
    ) -> None:
        self.interactions = interactions
        self.tenants = tenants
        self.users = users
        self.sign_in_experience = sign_in_experience
        self.codes = codes

    async def identified_user(self, interaction: Interaction) -> User:
        """The user this interaction has identified (or created), else 404."""
        if interaction.user_id is None:
            raise IdentifierNotFoundError()
        user = await self.users.get(interaction.tenant_id, interaction.user_id)
        if user is None:  # deleted meanwhile
            raise IdentifierNotFoundError()
        return user

    async def send_code(
        self,
        interaction: Interaction,
        raw_phone: str,
        event: InteractionEvent,
        *,
        ip: str | None = None,
        locale: str | None = None,
    ) -> str:
        """`POST /verification/verification-code`: a PhoneVerificationCode record and its SMS."""
        tenant = await self.tenants.get(interaction.tenant_id)
        phone = await self.codes.recipient(tenant, raw_phone, TEMPLATE_BY_EVENT[event])
        experience = await self.sign_in_experience.current(tenant.id)

        def usable() -> None:
            # Refusing a closed event here (Logto only refuses it later) saves an SMS nobody can
            # use; checked after Logto's send checks, so Logto's 429 and 501 come first.
            guard_event(experience, event)
            if event is InteractionEvent.FORGOT_PASSWORD and not experience.phone_forgot_password():
                raise ForgotPasswordNotEnabledError()

        # An identified user adding a phone that is no sign-up identifier is binding MFA (Logto).
        if interaction.user_id is not None and not experience.phone_sign_up():
            template = UsageType.BIND_MFA
        else:
            template = TEMPLATE_BY_EVENT[event]
        record = VerificationRecord(
            id=new_id(),
            type=VerificationType.PHONE_VERIFICATION_CODE,
            identifier=PhoneIdentifier(value=phone),
            template_type=template.value,
        )
        delivery = await self._delivery(interaction, experience, event, phone)
        await self.codes.send(
            tenant,
            phone,
            template,
            ip=ip,
            locale=locale,
            scope=record.id,
            new_scope=True,
            delivery=delivery,
            precheck=usable,
            resend_of=_resend_of(interaction, record),
        )
        interaction.set_record(record)
        await self.interactions.save(interaction)
        return record.id

    async def send_email_code(
        self,
        interaction: Interaction,
        raw_email: str,
        event: InteractionEvent,
        *,
        ip: str | None = None,
        locale: str | None = None,
    ) -> str:
        """`POST /verification/verification-code` with an email identifier: Logto's
        EmailVerificationCode record and its email, under the rules of the SMS one."""
        tenant = await self.tenants.get(interaction.tenant_id)
        email = normalise_email(raw_email)  # 400 `guard.invalid_input` first, as Logto's guard
        experience = await self.sign_in_experience.current(tenant.id)

        def usable() -> None:
            guard_event(experience, event)
            if event is InteractionEvent.FORGOT_PASSWORD and not experience.email_forgot_password():
                raise ForgotPasswordNotEnabledError()

        if interaction.user_id is not None and not experience.email_sign_up():
            template = UsageType.BIND_MFA
        else:
            template = TEMPLATE_BY_EVENT[event]
        if event is InteractionEvent.REGISTER:
            ensure_email_allowed(experience.email_blocklist_policy, email)
        record = VerificationRecord(
            id=new_id(),
            type=VerificationType.EMAIL_VERIFICATION_CODE,
            identifier=EmailIdentifier(value=email),
            template_type=template.value,
        )
        delivery = await self._delivery(interaction, experience, event, email=email)
        await self.codes.send_email(
            tenant,
            email,
            template,
            ip=ip,
            locale=locale,
            scope=record.id,
            new_scope=True,
            delivery=delivery,
            precheck=usable,
            resend_of=_resend_of(interaction, record),
        )
        interaction.set_record(record)
        await self.interactions.save(interaction)
        return record.id

    async def verify_email_code(
        self,
        interaction: Interaction,
        raw_email: str,
        verification_id: str,
        code: str,
    ) -> str:
        """`POST /verification/verification-code/verify` with an email identifier."""
        record = interaction.record_of_type(
            VerificationType.EMAIL_VERIFICATION_CODE, verification_id
        )
        tenant = await self.tenants.get(interaction.tenant_id)
        usage = record.template_type or UsageType.GENERIC.value
        # Logto's order: record (404), lockout, code found, then the address (`email_mismatch`).
        await self.codes.verify_email(
            tenant, record.identifier.value, usage, code, scope=record.id, claimed=raw_email
        )
        record.verified = True
        await self.interactions.save(interaction)
        return record.id

    async def _delivery(
        self,
        interaction: Interaction,
        experience: SignInExperience,
        event: InteractionEvent,
        phone: str | None = None,
        *,
        email: str | None = None,
    ) -> Delivery:
        """Logto's `shouldSkipDelivery`: no SMS that would only tell whether a phone has an
        account; and, where it applies, no waiting that would tell it either."""
        closed_sign_in = (
            event is InteractionEvent.SIGN_IN
            and interaction.user_id is None
            and experience.sign_in_mode is SignInMode.SIGN_IN
        )
        if event is not InteractionEvent.FORGOT_PASSWORD and not closed_sign_in:
            return Delivery.NOW
        # One indexed lookup, the same work for either answer.
        if email is not None:
            found = await self.users.find_by_email(interaction.tenant_id, email)
        else:
            found = await self.users.find_by_phone(interaction.tenant_id, phone or "")
        known = found is not None
        return Delivery.BACKGROUND if known else Delivery.NONE

    async def verify_code(
        self,
        interaction: Interaction,
        raw_phone: str,
        verification_id: str,
        code: str,
        *,
        ip: str | None = None,
    ) -> str:
        """`POST /verification/verification-code/verify`: marks the record verified."""
        record = interaction.record_of_type(
            VerificationType.PHONE_VERIFICATION_CODE, verification_id
        )
        # Logto's order: record (404), lockout, code found, then the phone (`phone_mismatch`).
        await self._check_code(interaction, record, code, ip, claimed=raw_phone)
        return record.id

    async def _check_code(
        self,
        interaction: Interaction,
        record: VerificationRecord,
        code: str,
        ip: str | None,
        *,
        claimed: str | None = None,
    ) -> None:
        tenant = await self.tenants.get(interaction.tenant_id)
        usage = record.template_type or UsageType.GENERIC.value
        await self.codes.verify(
            tenant, record.phone, usage, code, scope=record.id, ip=ip, claimed=claimed
        )
        record.verified = True
        await self.interactions.save(interaction)

    async def verify_password(
        self, interaction: Interaction, kind: IdentifierType, value: str, password: str
    ) -> str:
        """`POST /verification/password`: a username, email or phone with a password, counted
        like wrong codes.

        An unknown identifier and a wrong password are the same 422 `session.invalid_credentials`
        after the same Argon2 work, so the answer tells nobody which identifiers exist.
        """
        tenant = await self.tenants.get(interaction.tenant_id)
        identifier = canonical(kind, value)
        experience = await self.sign_in_experience.current(tenant.id)
        # Checked before the password, unlike Logto, so a closed method is no password oracle.
        if not experience.password_sign_in(SignInIdentifier(kind)):
            raise SignInMethodNotEnabledError()
        limits = self.codes.rate_limits
        key = lockout_key(identifier)
        await limits.ensure_not_locked(tenant, key)
        user = await find_user(self.users, tenant.id, experience, identifier)
        stored = user.password_hash if user is not None and user.password_hash else decoy_hash()
        matches = await asyncio.to_thread(verify_password, stored, password)
        if user is None or not user.password_hash or not matches:
            # The limit-th wrong password locks the identifier and is still answered as wrong.
            await limits.record_failed_verification(tenant, key)
            shown = mask_phone(key) if kind == "phone" else kind
            log.info("wrong password for %s", shown)
            raise InvalidCredentialsError()
        if user.is_suspended:  # after the password, as Logto: no oracle for strangers
            raise UserSuspendedError()
        record = VerificationRecord(
            id=new_id(),
            type=VerificationType.PASSWORD,
            identifier=identifier,
            verified=True,
            user_id=user.id,
        )
        interaction.set_record(record)
        await self.interactions.save(interaction)
        return record.id

    async def send_mfa_code(
        self, interaction: Interaction, *, ip: str | None = None, locale: str | None = None
    ) -> str:
        """`POST /verification/mfa-verification-code`: a code to the identified user's phone."""
        user = await self.identified_user(interaction)
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        if not experience.phone_mfa() or user.phone is None:
            raise MfaFactorNotEnabledError()
        record = VerificationRecord(
            id=new_id(),
            type=VerificationType.MFA_PHONE_VERIFICATION_CODE,
            identifier=PhoneIdentifier(value=user.phone),
            template_type=UsageType.MFA_VERIFICATION.value,
        )
        tenant = await self.tenants.get(interaction.tenant_id)
        await self.codes.send(
            tenant,
            user.phone,
            UsageType.MFA_VERIFICATION,
            ip=ip,
            locale=locale,
            scope=record.id,
            new_scope=True,
            resend_of=_resend_of(interaction, record),
        )
        interaction.set_record(record)
        await self.interactions.save(interaction)
        return record.id

    async def verify_mfa_code(
        self, interaction: Interaction, verification_id: str, code: str, *, ip: str | None = None
    ) -> str:
        """`POST /verification/mfa-verification-code/verify`."""
        record = interaction.record_of_type(
            VerificationType.MFA_PHONE_VERIFICATION_CODE, verification_id
        )
        await self._check_code(interaction, record, code, ip)
        return record.id


def _resend_of(interaction: Interaction, record: VerificationRecord) -> str | None:
    """The scope of the code a send for `record` resends: the id of the unverified record it
    replaces (same type, recipient and template). Logto gives every send a new record, so the
    old `verificationId` stops resolving; the waiting code moves to the new record, and within
    its validity the same code goes out again (tenant setting `resendKeepsCode`)."""
    for previous in interaction.records():
        same = (
            previous.type is record.type
            and previous.identifier.value == record.identifier.value
            and previous.template_type == record.template_type
        )
        if same and not previous.verified:
            return previous.id
    return None
