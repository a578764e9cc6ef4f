"""End-user interactions: one sign-in, registration or password reset in progress, kept server-side.

Logto keeps this state in the OIDC provider's interaction (cookie `_interaction`, 3600 s); here it
is a row per interaction whose id travels in a signed cookie. The document holds the event, the
identified user, the pending profile (a password only as its Argon2 hash) and the verification
records, one per type: a new record of a type replaces the old one, so a resend invalidates the
previous `verificationId` (Logto §5.1). Codes are never part of it.

Two requests on one interaction (two tabs, a double click) each load the document, change it and
save it whole. Saves are optimistic: each names the version it loaded, and the one that lost the
race answers 409 `session.interaction_conflict` instead of silently undoing the other's change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phoneauth.errors import PhoneauthError

INTERACTION_TTL = timedelta(seconds=3600)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class InteractionNotFoundError(PhoneauthError):
    """No interaction is in progress (missing, expired or forged cookie): start again.

    Logto's answer when its interaction cookie names no session (`400 session.not_found`); its
    `404 session.interaction_not_found` is for a session without Experience state, which cannot
    happen here: the cookie is set only by `PUT /experience`, which makes the state."""

    code = "session.not_found"
    status = 400


class InteractionConflictError(PhoneauthError):
    """Another request changed this sign-in at the same moment: repeat the last step."""

    code = "session.interaction_conflict"
    status = 409


class VerificationSessionNotFoundError(PhoneauthError):
    """The verification was not successful. Restart the verification flow and try again."""

    code = "session.verification_session_not_found"
    status = 404


class InteractionEvent(StrEnum):
    SIGN_IN = "SignIn"
    REGISTER = "Register"
    FORGOT_PASSWORD = "ForgotPassword"


class VerificationType(StrEnum):
    """Logto's `VerificationType` values that phoneauth's phone flows produce."""

    PASSWORD = "Password"
    PHONE_VERIFICATION_CODE = "PhoneVerificationCode"
    EMAIL_VERIFICATION_CODE = "EmailVerificationCode"
    MFA_PHONE_VERIFICATION_CODE = "MfaPhoneVerificationCode"
    NEW_PASSWORD_IDENTITY = "NewPasswordIdentity"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PhoneIdentifier(_Document):
    type: Literal["phone"] = "phone"
    value: str = Field(description="E.164.")


class EmailIdentifier(_Document):
    type: Literal["email"] = "email"
    value: str = Field(description="As `emails.normalise_email` gives it.")


class UsernameIdentifier(_Document):
    type: Literal["username"] = "username"
    value: str


class VerificationRecord(_Document):
    """Logto's code or password verification record: what was proven, never the secret."""

    id: str
    type: VerificationType
    identifier: PhoneIdentifier | UsernameIdentifier | EmailIdentifier = Field(discriminator="type")
    template_type: str | None = Field(default=None, alias="templateType")
    verified: bool = False
    password_hash: str | None = Field(
        default=None, alias="passwordHash", description="NewPasswordIdentity only; never shown."
    )
    user_id: str | None = Field(
        default=None, alias="userId", description="Password only: the user the password proved."
    )

    @property
    def phone(self) -> str:
        return self.identifier.value


class InteractionProfile(_Document):
    """What the user has submitted and the account will get at submit (or creation)."""

    primary_phone: str | None = Field(default=None, alias="primaryPhone")
    primary_email: str | None = Field(default=None, alias="primaryEmail")
    username: str | None = None
    password_hash: str | None = Field(default=None, alias="passwordHash")
    mfa_factors: list[str] = Field(default_factory=list, alias="mfaFactors")

    def clear(self) -> None:
        self.primary_phone = None
        self.primary_email = None
        self.username = None
        self.password_hash = None
        self.mfa_factors = []


class InteractionData(_Document):
    """The stored document."""

    interaction_event: InteractionEvent = Field(alias="interactionEvent")
    user_id: str | None = Field(default=None, alias="userId")
    profile: InteractionProfile = Field(default_factory=InteractionProfile)
    verification_records: list[VerificationRecord] = Field(
        default_factory=list, alias="verificationRecords"
    )
    redirect_to: str | None = Field(default=None, alias="redirectTo")


@dataclass(slots=True)
class Interaction:
    """One interaction, loaded; change `data` and hand it back to `Interactions.save`."""

    id: str
    tenant_id: str
    expires_at: datetime
    data: InteractionData
    version: int = 1
    """The stored version `data` was loaded from (or last saved as)."""

    @property
    def event(self) -> InteractionEvent:
        return self.data.interaction_event

    @property
    def user_id(self) -> str | None:
        return self.data.user_id

    @property
    def profile(self) -> InteractionProfile:
        return self.data.profile

    def record(self, verification_id: str) -> VerificationRecord:
        for record in self.data.verification_records:
            if record.id == verification_id:
                return record
        raise VerificationSessionNotFoundError()

    def record_of_type(self, kind: VerificationType, verification_id: str) -> VerificationRecord:
        record = self.record(verification_id)
        if record.type is not kind:
            raise VerificationSessionNotFoundError()
        return record

    def set_record(self, record: VerificationRecord) -> None:
        """Replace the record of the same type (Logto keeps one per type)."""
        others = [r for r in self.data.verification_records if r.type is not record.type]
        self.data.verification_records = [*others, record]

    def records(self) -> list[VerificationRecord]:
        return list(self.data.verification_records)

    def sanitized(self) -> dict[str, Any]:
        """What `GET /api/experience/interaction` shows: no password hash, never a code."""
        profile = self.profile
        shown: dict[str, Any] = {}
        if profile.primary_phone:
            shown["primaryPhone"] = profile.primary_phone
        if profile.primary_email:
            shown["primaryEmail"] = profile.primary_email
        if profile.username:
            shown["username"] = profile.username
        if profile.password_hash:
            shown["passwordSet"] = True
        if profile.mfa_factors:
            shown["mfaFactors"] = list(profile.mfa_factors)
        return {
            "interactionEvent": self.event.value,
            "userId": self.user_id,
            "profile": shown,
            "verificationRecords": [
                r.model_dump(
                    mode="json",
                    by_alias=True,
                    exclude={"password_hash"} | ({"user_id"} if r.user_id is None else set()),
                )
                for r in self.data.verification_records
            ],
            "expiresAt": self.expires_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class StoredInteraction:
    id: str
    tenant_id: str
    data: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    version: int = 1


class InteractionStore(Protocol):
    """Interaction rows of one tenant per call."""

    async def create(self, interaction: StoredInteraction) -> None: ...
    async def get(self, tenant_id: str, interaction_id: str) -> StoredInteraction | None: ...
    async def update(
        self, tenant_id: str, interaction_id: str, data: dict[str, Any], *, expected_version: int
    ) -> bool:
        """Replace the document and bump the version, if the row is still at
        `expected_version`; True if it was."""
        ...

    async def delete(
        self, tenant_id: str, interaction_id: str, *, expected_version: int | None = None
    ) -> bool:
        """Delete the row (only at `expected_version`, when given); True if this call did."""
        ...

    async def delete_expired(self, tenant_id: str, now: datetime) -> int:
        """Delete the tenant's interactions expired at `now` or earlier; how many."""
        ...


class Interactions:
    """Start, load, save and finish interactions; a lifetime fixed at start, as Logto's."""

    def __init__(
        self, store: InteractionStore, *, clock: Clock = utc_now, ttl: timedelta = INTERACTION_TTL
    ) -> None:
        self.store = store
        self.clock = clock
        self.ttl = ttl

    async def start(
        self,
        tenant_id: str,
        event: InteractionEvent,
        *,
        redirect_to: str | None = None,
    ) -> Interaction:
        interaction_id = secrets.token_urlsafe(24)
        now = self.clock()
        # Expired rows are deleted by a job of their own (`interaction_cleanup`), not here.
        data = InteractionData(interaction_event=event, redirect_to=redirect_to)
        expires_at = now + self.ttl
        await self.store.create(
            StoredInteraction(interaction_id, tenant_id, self._dump(data), now, expires_at)
        )
        return Interaction(interaction_id, tenant_id, expires_at, data)

    async def load(self, tenant_id: str, interaction_id: str | None) -> Interaction:
        """The live interaction, else `InteractionNotFoundError`."""
        if not interaction_id:
            raise InteractionNotFoundError()
        stored = await self.store.get(tenant_id, interaction_id)
        if stored is None or stored.expires_at <= self.clock():
            raise InteractionNotFoundError()
        try:
            data = InteractionData.model_validate(stored.data)
        except ValidationError:
            # A document from an incompatible version is as good as none (Logto does the same).
            raise InteractionNotFoundError() from None
        return Interaction(stored.id, stored.tenant_id, stored.expires_at, data, stored.version)

    async def save(self, interaction: Interaction) -> None:
        """Write the document back, unless another request saved it since it was loaded.

        Raises:
            InteractionConflictError: someone else's change came first (409).
            InteractionNotFoundError: the interaction has ended meanwhile.
        """
        saved = await self.store.update(
            interaction.tenant_id,
            interaction.id,
            self._dump(interaction.data),
            expected_version=interaction.version,
        )
        if not saved:
            raise await self._why_refused(interaction)
        interaction.version += 1

    async def finish(self, interaction: Interaction) -> None:
        """End the interaction as loaded: of two requests finishing it, one does (a submit
        claims the interaction this way before it changes the account or opens a session).

        Raises:
            InteractionConflictError, InteractionNotFoundError: as `save`.
        """
        if not await self.store.delete(
            interaction.tenant_id, interaction.id, expected_version=interaction.version
        ):
            raise await self._why_refused(interaction)

    async def _why_refused(self, interaction: Interaction) -> PhoneauthError:
        if await self.store.get(interaction.tenant_id, interaction.id) is None:
            return InteractionNotFoundError()
        return InteractionConflictError()

    async def discard(self, tenant_id: str, interaction_id: str) -> None:
        await self.store.delete(tenant_id, interaction_id)

    @staticmethod
    def _dump(data: InteractionData) -> dict[str, Any]:
        return data.model_dump(mode="json", by_alias=True)
