"""The Experience API's flows (Logto's RFC 0004): start, identify, complete the profile, submit.

Sign-in, registration and password reset share one interaction document (`interactions`); the
verification steps that feed it are in `experience_verifications`. A finished sign-in or
registration yields a session (`sessions.sign_in`); a finished password reset only a new password.

Second factor: SMS MFA is required when the tenant offers `PhoneVerificationCode` and the user has
bound it (`mfaFactors`), or when the MFA policy is mandatory and the user has a phone. Unlike
Logto, owning a phone does not bind the factor by itself (logto-io/logto#8542).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from phoneauth.connectors import mask_phone
from phoneauth.domain.email_blocklist import ensure_email_allowed
from phoneauth.domain.experience_errors import (
    EmailExistsInProfileError,
    ForgotPasswordMethodError,
    ForgotPasswordNotEnabledError,
    IdentityConflictError,
    InvalidInteractionTypeError,
    MfaFactorNotEnabledError,
    MfaRequiredError,
    MissingMfaError,
    MissingProfileError,
    NewPasswordRequiredError,
    NotSupportedForForgotPasswordError,
    PasswordExistsInProfileError,
    PhoneExistsInProfileError,
    SignInMethodNotEnabledError,
    UsernameExistsInProfileError,
    VerificationFailedError,
    VerificationIdMissingError,
)
from phoneauth.domain.experience_verifications import ExperienceVerifications, guard_event
from phoneauth.domain.interactions import (
    Interaction,
    InteractionEvent,
    Interactions,
    PhoneIdentifier,
    VerificationRecord,
    VerificationType,
)
from phoneauth.domain.missing_profile import missing_profile
from phoneauth.domain.new_password_identity import NewPasswordIdentities
from phoneauth.domain.password_policy import PwnedLookup, UserInfo, ensure_password_allowed
from phoneauth.domain.passwords import SamePasswordError, hash_any_password, verify_password
from phoneauth.domain.sessions import IssuedSession, Sessions
from phoneauth.domain.sign_in_experience import (
    SignInExperience,
    SignInExperienceSource,
    SignInIdentifier,
)
from phoneauth.domain.tenants import Tenants
from phoneauth.domain.usernames import ensure_username_allowed
from phoneauth.domain.users import (
    EmailInUseError,
    PhoneInUseError,
    User,
    UserNotFoundError,
    UserStore,
    UserSuspendedError,
)
from phoneauth.domain.verification_codes import VerificationCodes
from phoneauth.ids import new_id

log = logging.getLogger("phoneauth.experience")

PHONE_FACTOR = "PhoneVerificationCode"


def mfa_mandatory(experience: SignInExperience, event: InteractionEvent) -> bool:
    """`Mandatory` and the `...Mandatory` prompts; `PromptOnlyAtSignInMandatory` spares sign-up."""
    policy = experience.mfa.policy.value
    if event is InteractionEvent.REGISTER and policy == "PromptOnlyAtSignInMandatory":
        return False
    return policy.endswith("Mandatory")


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: IssuedSession
    access_token_expires_at: datetime


@dataclass(frozen=True, slots=True)
class Submitted:
    """A finished interaction: the user, and their new session unless it reset a password."""

    user: User
    signed_in: SignedIn | None
    redirect_to: str | None


class Experience:
    """The Experience API's steps over one interaction each; routes stay thin."""

    def __init__(
        self,
        *,
        interactions: Interactions,
        tenants: Tenants,
        users: UserStore,
        sessions: Sessions,
        sign_in_experience: SignInExperienceSource,
        codes: VerificationCodes,
        pwned: PwnedLookup | None = None,
    ) -> None:
        self.interactions = interactions
        self.tenants = tenants
        self.users = users
        self.sessions = sessions
        self.sign_in_experience = sign_in_experience
        self.pwned = pwned
        self.verifications = ExperienceVerifications(
            interactions=interactions,
            tenants=tenants,
            users=users,
            sign_in_experience=sign_in_experience,
            codes=codes,
        )
        self.new_password_identities = NewPasswordIdentities(
            interactions=interactions,
            users=users,
            sign_in_experience=sign_in_experience,
            pwned=pwned,
        )

    async def start(
        self, tenant_id: str, event: InteractionEvent, *, redirect_to: str | None = None
    ) -> Interaction:
        """`PUT /api/experience`: a new interaction (the caller discards any previous one)."""
        await self.tenants.get(tenant_id)
        guard_event(await self.sign_in_experience.current(tenant_id), event)
        return await self.interactions.start(tenant_id, event, redirect_to=redirect_to)

    async def switch_event(self, interaction: Interaction, event: InteractionEvent) -> None:
        """`PUT /api/experience/interaction-event`: sign-in ⇄ register; the pending profile goes."""
        guard_event(await self.sign_in_experience.current(interaction.tenant_id), event)
        forgot = InteractionEvent.FORGOT_PASSWORD
        if (event is forgot) != (interaction.event is forgot):
            raise NotSupportedForForgotPasswordError()
        if event is not interaction.event:
            interaction.profile.clear()
        interaction.data.interaction_event = event
        await self.interactions.save(interaction)

    # --- identification -----------------------------------------------------------------------

    async def identify(self, interaction: Interaction, verification_id: str | None) -> bool:
        """`POST /api/experience/identification`; True when it created the user (201)."""
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        if interaction.event is InteractionEvent.REGISTER:
            await self._register(interaction, experience, verification_id)
            return True
        if verification_id is None:
            raise VerificationIdMissingError()
        record = interaction.record(verification_id)
        if interaction.event is InteractionEvent.SIGN_IN:
            guard_event(experience, InteractionEvent.SIGN_IN)
            self._guard_sign_in_method(experience, record)
        else:
            if record.type is VerificationType.PHONE_VERIFICATION_CODE:
                enabled = experience.phone_forgot_password()
            elif record.type is VerificationType.EMAIL_VERIFICATION_CODE:
                enabled = experience.email_forgot_password()
            else:
                raise ForgotPasswordMethodError()
            if not enabled:
                raise ForgotPasswordNotEnabledError()
        if not record.verified:
            raise VerificationFailedError()
        if record.type is VerificationType.PASSWORD and record.user_id is not None:
            user = await self.users.get(interaction.tenant_id, record.user_id)
        elif record.type is VerificationType.EMAIL_VERIFICATION_CODE:
            user = await self.users.find_by_email(interaction.tenant_id, record.identifier.value)
        else:
            user = await self.users.find_by_phone(interaction.tenant_id, record.phone)
        if user is None:
            raise UserNotFoundError()
        if user.is_suspended:
            raise UserSuspendedError()
        if interaction.user_id is not None and interaction.user_id != user.id:
            raise IdentityConflictError()
        interaction.data.user_id = user.id
        await self.interactions.save(interaction)
        return False

    @staticmethod
    def _guard_sign_in_method(experience: SignInExperience, record: VerificationRecord) -> None:
        if record.type is VerificationType.PHONE_VERIFICATION_CODE:
            enabled = experience.phone_code_sign_in()
        elif record.type is VerificationType.EMAIL_VERIFICATION_CODE:
            enabled = experience.email_code_sign_in()
        elif record.type is VerificationType.PASSWORD:
            enabled = experience.password_sign_in(SignInIdentifier(record.identifier.type))
        else:  # an MFA code is no first factor
            enabled = False
        if not enabled:
            raise SignInMethodNotEnabledError()

    async def _register(
        self,
        interaction: Interaction,
        experience: SignInExperience,
        verification_id: str | None,
    ) -> None:
        """Logto's `createUser`: the verified phone joins the profile, then the account is made
        once the profile holds everything the sign-up settings require."""
        tenant_id = interaction.tenant_id
        guard_event(experience, InteractionEvent.REGISTER)
        if interaction.user_id is not None:
            raise IdentityConflictError("This interaction has already created an account.")
        if verification_id is not None:
            record = interaction.record(verification_id)
            if record.type is VerificationType.EMAIL_VERIFICATION_CODE:
                ensure_email_allowed(experience.email_blocklist_policy, record.identifier.value)
            if not record.verified:
                raise VerificationFailedError()
            if record.type is VerificationType.NEW_PASSWORD_IDENTITY:
                await self.new_password_identities.apply_to_profile(interaction, experience, record)
            elif record.type is VerificationType.PHONE_VERIFICATION_CODE:
                await self._ensure_phone_free(tenant_id, record.phone)
                interaction.profile.primary_phone = record.phone
            elif record.type is VerificationType.EMAIL_VERIFICATION_CODE:
                await self._ensure_email_free(tenant_id, record.identifier.value)
                interaction.profile.primary_email = record.identifier.value
            else:
                raise VerificationFailedError()
            # Kept even when the profile is still incomplete, so the next call needs no record.
            await self.interactions.save(interaction)
        profile = interaction.profile
        missing = missing_profile(
            experience,
            profile.primary_phone,
            profile.password_hash is not None,
            profile.username,
            profile.primary_email,
        )
        if missing:
            raise MissingProfileError(missing)
        user = await self.users.create(
            tenant_id,
            phone=profile.primary_phone,
            password_hash=profile.password_hash,
            username=profile.username,
            email=profile.primary_email,
        )
        log.info("user %s registered", user.id)
        interaction.data.user_id = user.id
        profile.primary_phone = None
        profile.primary_email = None
        profile.username = None
        profile.password_hash = None
        await self.interactions.save(interaction)

    async def _ensure_email_free(self, tenant_id: str, email: str) -> None:
        if await self.users.find_by_email(tenant_id, email) is not None:
            raise EmailInUseError()

    async def _ensure_phone_free(self, tenant_id: str, phone: str) -> None:
        if await self.users.find_by_phone(tenant_id, phone) is not None:
            raise PhoneInUseError()

    # --- profile ------------------------------------------------------------------------------

    async def _guard_profile_step(self, interaction: Interaction) -> User | None:
        """Profile steps: not in a password reset; in a sign-in only once MFA is satisfied."""
        if interaction.event is InteractionEvent.FORGOT_PASSWORD:
            raise NotSupportedForForgotPasswordError()
        if interaction.event is InteractionEvent.SIGN_IN:
            user = await self.verifications.identified_user(interaction)
            await self._guard_mfa(interaction, user)
            return user
        if interaction.user_id is None:
            return None
        return await self.verifications.identified_user(interaction)

    def _verified_phone(self, interaction: Interaction, verification_id: str) -> str:
        record = interaction.record_of_type(
            VerificationType.PHONE_VERIFICATION_CODE, verification_id
        )
        if not record.verified:
            raise VerificationFailedError()
        return record.phone

    async def bind_phone(self, interaction: Interaction, verification_id: str) -> None:
        """`POST /api/experience/profile {type: phone}`: the verified phone joins the profile."""
        user = await self._guard_profile_step(interaction)
        phone = self._verified_phone(interaction, verification_id)
        if user is not None and user.phone is not None:
            raise PhoneExistsInProfileError()
        await self._ensure_phone_free(interaction.tenant_id, phone)
        interaction.profile.primary_phone = phone
        await self.interactions.save(interaction)

    async def bind_email(self, interaction: Interaction, verification_id: str) -> None:
        """`POST /api/experience/profile {type: email}`: Logto's order, the record (404), the
        blocklist (422), verified (400), the account must have none (422), then uniqueness
        (422)."""
        user = await self._guard_profile_step(interaction)
        record = interaction.record_of_type(
            VerificationType.EMAIL_VERIFICATION_CODE, verification_id
        )
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        ensure_email_allowed(experience.email_blocklist_policy, record.identifier.value)
        if not record.verified:
            raise VerificationFailedError()
        if user is not None and user.primary_email is not None:
            raise EmailExistsInProfileError()
        await self._ensure_email_free(interaction.tenant_id, record.identifier.value)
        interaction.profile.primary_email = record.identifier.value
        await self.interactions.save(interaction)

    async def add_username(self, interaction: Interaction, username: str) -> None:
        """`POST /api/experience/profile {type: username}`: Logto's order, the account must
        have none (422), then the username policy (422), then uniqueness (422)."""
        user = await self._guard_profile_step(interaction)
        if user is not None and user.username is not None:
            raise UsernameExistsInProfileError()
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        ensure_username_allowed(username, experience.username_policy)
        await self.new_password_identities.ensure_username_free(
            interaction.tenant_id, username, experience
        )
        interaction.profile.username = username
        await self.interactions.save(interaction)

    async def add_password(self, interaction: Interaction, password: str) -> None:
        """`POST /api/experience/profile {type: password}`: a password for an account without.

        Logto's order: the tenant's password policy (422 `password.rejected`), not the current
        password (422 `user.same_password`), then the account has none yet (422)."""
        user = await self._guard_profile_step(interaction)
        await self._check_password(interaction, user, password)
        if user is not None and user.has_password:
            raise PasswordExistsInProfileError()
        await self._stage_password(interaction, password)

    async def set_password(self, interaction: Interaction, password: str) -> None:
        """`PUT /api/experience/profile/password`: the new password of a reset, or the password
        of a registration; the tenant's policy first, and a reset refuses the current password
        (`user.same_password`), as Logto's."""
        if interaction.event is InteractionEvent.FORGOT_PASSWORD:
            user = await self.verifications.identified_user(interaction)
        elif interaction.event is InteractionEvent.REGISTER:
            user = None
            if interaction.user_id is not None:
                user = await self.verifications.identified_user(interaction)
        else:
            raise InvalidInteractionTypeError()
        await self._check_password(interaction, user, password)
        await self._stage_password(interaction, password)

    async def _check_password(
        self, interaction: Interaction, user: User | None, password: str
    ) -> None:
        """Logto's `PasswordValidator`: the policy, with the user info of the pending profile
        before the account's; then never the account's current password."""
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        profile = interaction.profile
        info = UserInfo.of(
            user.name if user else None,
            profile.username or (user.username if user else None),
            profile.primary_email or (user.primary_email if user else None),
            profile.primary_phone or (user.phone if user else None),
        )
        await ensure_password_allowed(
            password, experience.password_policy, user=info, pwned=self.pwned
        )
        # Argon2 takes tens of milliseconds of CPU: off the event loop.
        if user is not None and await asyncio.to_thread(
            verify_password, user.password_hash, password
        ):
            raise SamePasswordError()

    async def _stage_password(self, interaction: Interaction, password: str) -> None:
        # Checked by `_check_password` already; Argon2 off the event loop.
        interaction.profile.password_hash = await asyncio.to_thread(hash_any_password, password)
        await self.interactions.save(interaction)

    async def bind_mfa(self, interaction: Interaction, verification_id: str) -> None:
        """`POST /api/experience/profile/mfa {type: PhoneVerificationCode}`: a verified phone
        becomes the account's second factor, and counts as this interaction's MFA proof."""
        if interaction.event is InteractionEvent.FORGOT_PASSWORD:
            raise NotSupportedForForgotPasswordError()
        user = await self.verifications.identified_user(interaction)
        if interaction.event is InteractionEvent.SIGN_IN:
            await self._guard_mfa(interaction, user)
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        if not experience.phone_mfa():
            raise MfaFactorNotEnabledError()
        phone = self._verified_phone(interaction, verification_id)
        current = user.phone or interaction.profile.primary_phone
        if current is not None and current != phone:
            raise PhoneExistsInProfileError()
        if current is None:
            await self._ensure_phone_free(interaction.tenant_id, phone)
            interaction.profile.primary_phone = phone
        if PHONE_FACTOR not in interaction.profile.mfa_factors:
            interaction.profile.mfa_factors.append(PHONE_FACTOR)
        interaction.set_record(
            VerificationRecord(
                id=new_id(),
                type=VerificationType.MFA_PHONE_VERIFICATION_CODE,
                identifier=PhoneIdentifier(value=phone),
                verified=True,
            )
        )
        await self.interactions.save(interaction)

    # --- MFA and submit -----------------------------------------------------------------------

    async def _guard_mfa(self, interaction: Interaction, user: User) -> None:
        """403 `session.mfa.require_mfa_verification` until the second factor is proven."""
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        if user.phone is None or not experience.phone_mfa():
            return
        bound = PHONE_FACTOR in user.mfa_factors
        if not bound and not mfa_mandatory(experience, interaction.event):
            return
        for record in interaction.records():
            if not record.verified or record.phone != user.phone:
                continue
            if record.type is VerificationType.MFA_PHONE_VERIFICATION_CODE:
                return
            # A registration has just proven this phone by code: asking again proves nothing.
            if (
                interaction.event is InteractionEvent.REGISTER
                and record.type is VerificationType.PHONE_VERIFICATION_CODE
            ):
                return
        raise MfaRequiredError(mask_phone(user.phone))

    async def submit(self, interaction: Interaction) -> Submitted:
        """`POST /api/experience/submit`: write the profile, open a session, end the interaction."""
        user = await self.verifications.identified_user(interaction)
        if user.is_suspended:  # suspended after identification
            raise UserSuspendedError()
        profile = interaction.profile
        # Each branch ends the interaction (a versioned delete) after its checks and before any
        # effect: of two submits racing on it, the loser opens no second session.
        if interaction.event is InteractionEvent.FORGOT_PASSWORD:
            if profile.password_hash is None:
                raise NewPasswordRequiredError()
            await self.interactions.finish(interaction)
            user = await self.users.set_password(user.tenant_id, user.id, profile.password_hash)
            # Whoever knew the old password may hold a session: a reset must end it.
            ended = await self.sessions.end_all(user.tenant_id, user.id)
            log.info("user %s reset the password; %d sessions ended", user.id, ended)
            return Submitted(user, None, interaction.data.redirect_to)
        experience = await self.sign_in_experience.current(interaction.tenant_id)
        await self._guard_mfa(interaction, user)
        phone = user.phone or profile.primary_phone
        has_password = user.has_password or profile.password_hash is not None
        username = user.username or profile.username
        email = user.primary_email or profile.primary_email
        missing = missing_profile(experience, phone, has_password, username, email)
        if missing:
            raise MissingProfileError(missing)
        # Mandatory MFA by SMS needs a phone to send to: bind one (`POST /profile/mfa`) first.
        if experience.phone_mfa() and mfa_mandatory(experience, interaction.event) and not phone:
            raise MissingMfaError()
        if profile.primary_phone is not None and profile.primary_phone != user.phone:
            # Taken since it was bound? Say so while the interaction can still bind another.
            await self._ensure_phone_free(interaction.tenant_id, profile.primary_phone)
        if profile.primary_email is not None and user.primary_email is None:
            await self._ensure_email_free(interaction.tenant_id, profile.primary_email)
        if profile.username is not None and user.username is None:
            await self.new_password_identities.ensure_username_free(
                interaction.tenant_id, profile.username, experience
            )
        await self.interactions.finish(interaction)
        user = await self._apply_profile(user, interaction)
        issued = await self.sessions.sign_in(user)
        await self.users.record_sign_in(user.tenant_id, user.id, self.sessions.clock())
        log.info("user %s signed in (%s)", user.id, interaction.event.value)
        signed_in = SignedIn(issued, issued.access_token_expires_at)
        return Submitted(user, signed_in, interaction.data.redirect_to)

    async def _apply_profile(self, user: User, interaction: Interaction) -> User:
        profile = interaction.profile
        if profile.primary_phone is not None and profile.primary_phone != user.phone:
            user = await self.users.set_phone(user.tenant_id, user.id, profile.primary_phone)
        if profile.primary_email is not None and user.primary_email is None:
            changes = {"primary_email": profile.primary_email}
            user = await self.users.update(user.tenant_id, user.id, changes)
        if profile.username is not None and user.username is None:
            user = await self.users.update(user.tenant_id, user.id, {"username": profile.username})
        if profile.password_hash is not None:
            user = await self.users.set_password(user.tenant_id, user.id, profile.password_hash)
        new_factors = [f for f in profile.mfa_factors if f not in user.mfa_factors]
        if new_factors:
            user = await self.users.set_mfa_factors(
                user.tenant_id, user.id, [*user.mfa_factors, *new_factors]
            )
        return user
