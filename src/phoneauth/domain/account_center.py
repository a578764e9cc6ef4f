"""Logto's account center: which profile fields end users may change through the Account API
(logto-parity §5.1, §5.2).

Kept per tenant in the tenant settings (`accountCenter`), not in a table of its own: one small
document per tenant, read with the tenant that every Account API request loads anyway, carried by
tenant export and import, and added without a schema migration.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from phoneauth.errors import PhoneauthError


class FieldControl(StrEnum):
    OFF = "Off"
    READ_ONLY = "ReadOnly"
    EDIT = "Edit"


class AccountCenterFields(BaseModel):
    """Logto's `fields`: a key left out means Off."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: FieldControl | None = None
    avatar: FieldControl | None = None
    profile: FieldControl | None = None
    email: FieldControl | None = None
    phone: FieldControl | None = None
    password: FieldControl | None = None
    username: FieldControl | None = None
    social: FieldControl | None = None
    custom_data: FieldControl | None = Field(default=None, alias="customData")
    mfa: FieldControl | None = None
    passkey: FieldControl | None = None
    session: FieldControl | None = None


class ProfileField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)


class AccountCenter(BaseModel):
    """Logto's document; the defaults are those of Logto's `default` tenant seed (disabled)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = False
    fields: AccountCenterFields = Field(default_factory=AccountCenterFields)
    webauthn_related_origins: list[str] = Field(
        default_factory=list, alias="webauthnRelatedOrigins", max_length=100
    )
    delete_account_url: str | None = Field(
        default=None, alias="deleteAccountUrl", max_length=2048, pattern=r"^https?://\S+$"
    )
    custom_css: str | None = Field(default=None, alias="customCss", max_length=100_000)
    profile_fields: list[ProfileField] | None = Field(default=None, alias="profileFields")

    @field_validator("webauthn_related_origins")
    @classmethod
    def _unique(cls, origins: list[str]) -> list[str]:
        return list(dict.fromkeys(origins))  # Logto deduplicates, keeping the order

    def control(self, name: str) -> FieldControl:
        found = getattr(self.fields, name)
        return FieldControl.OFF if found is None else FieldControl(found)

    def fields_json(self) -> dict[str, str]:
        return self.fields.model_dump(mode="json", by_alias=True, exclude_none=True)


class AccountCenterNotEnabledError(PhoneauthError):
    """Account center is not enabled."""

    code = "account_center.not_enabled"
    status = 400


class FieldNotEditableError(PhoneauthError):
    """Field is not editable."""

    code = "account_center.field_not_editable"
    status = 400


def ensure_enabled(center: AccountCenter) -> None:
    """Logto's `koaAccountCenter`, in front of every Account API route."""
    if not center.enabled:
        raise AccountCenterNotEnabledError()


def ensure_editable(center: AccountCenter, name: str) -> None:
    """The field (a Logto `fields` key, e.g. `phone`) must be `Edit`."""
    ensure_enabled(center)
    if center.control(name) is not FieldControl.EDIT:
        raise FieldNotEditableError(field=name)
