"""`smsProtection`, the tenant's SMS pumping defence settings (issue 16), kept apart from the
service that applies them so `tenants` can hold them without importing the service."""

from __future__ import annotations

from enum import StrEnum

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from phoneauth.domain.phone_numbers import plan_type


class NumberType(StrEnum):
    """The numbering plan's types (`phonenumbers.number_type`), as the API names them."""

    MOBILE = "mobile"
    FIXED_LINE_OR_MOBILE = "fixedLineOrMobile"
    FIXED_LINE = "fixedLine"
    TOLL_FREE = "tollFree"
    PREMIUM_RATE = "premiumRate"
    SHARED_COST = "sharedCost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personalNumber"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


_BY_LIBRARY = {
    phonenumbers.PhoneNumberType.MOBILE: NumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: NumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE: NumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.TOLL_FREE: NumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE: NumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST: NumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.VOIP: NumberType.VOIP,
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: NumberType.PERSONAL_NUMBER,
    phonenumbers.PhoneNumberType.PAGER: NumberType.PAGER,
    phonenumbers.PhoneNumberType.UAN: NumberType.UAN,
    phonenumbers.PhoneNumberType.VOICEMAIL: NumberType.VOICEMAIL,
}


def number_type(e164: str) -> NumberType:
    """What the numbering plan says `e164` is; `unknown` when it cannot tell."""
    return _BY_LIBRARY.get(plan_type(e164), NumberType.UNKNOWN)


def _regions(values: list[str]) -> list[str]:
    regions = [value.strip().upper() for value in values]
    known = phonenumbers.SUPPORTED_REGIONS
    unknown = [region for region in regions if region not in known]
    if unknown:
        raise ValueError(f"not ISO 3166 region codes with phone numbers: {', '.join(unknown)}")
    if len(set(regions)) != len(regions):
        raise ValueError("a country is listed twice")
    return regions


class SmsProtectionSettings(BaseModel):
    """Every rule of the defence; the defaults stop pumping and never a legitimate user.

    On by default: number types (mobile numbers only: SMS to fixed lines rarely arrive, and
    premium, shared-cost, toll-free, VoIP and unknown ranges are where pumping happens), the
    prefix velocity and the conversion watch. Off by default: country lists and daily caps,
    which only an operator can size.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    allowed_countries: list[str] = Field(
        default_factory=list,
        max_length=300,
        alias="allowedCountries",
        description="ISO regions SMS may go to; empty: every country (but the denied ones).",
        examples=[["DE", "AT", "CH"]],
    )
    denied_countries: list[str] = Field(
        default_factory=list,
        max_length=300,
        alias="deniedCountries",
        description="ISO regions SMS never go to.",
    )
    allowed_number_types: list[NumberType] = Field(
        default_factory=lambda: [NumberType.MOBILE, NumberType.FIXED_LINE_OR_MOBILE],
        max_length=len(NumberType),
        alias="allowedNumberTypes",
        description="Number types (numbering plan) SMS may go to.",
    )
    prefix_digits: int = Field(
        default=3,
        ge=1,
        le=8,
        alias="prefixDigits",
        description="The prefix is the number without its last this many digits.",
    )
    prefix_limit: int = Field(
        default=10,
        ge=0,
        le=1_000_000,
        alias="prefixLimit",
        description="Numbers per prefix that get codes within `prefixWindowSeconds` (asking "
        "again for the same number is not counted twice); 0: no prefix limit.",
    )
    prefix_window_seconds: int = Field(default=3600, ge=60, le=86_400, alias="prefixWindowSeconds")
    daily_limit: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        alias="dailyLimit",
        description="Codes per UTC day for the tenant; null: no cap.",
    )
    country_daily_limit: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        alias="countryDailyLimit",
        description="Codes per UTC day to any one country; null: no cap.",
    )
    daily_cost_limit: float | None = Field(
        default=None,
        gt=0,
        le=1e9,
        alias="dailyCostLimit",
        description="Estimated cost per UTC day (`prices`), in the prices' currency; null: no cap.",
    )
    prices: dict[str, float] = Field(
        default_factory=dict,
        max_length=300,
        description="Price of one SMS per ISO region, for the cost estimate.",
        examples=[{"DE": 0.075, "GB": 0.04}],
    )
    default_price: float = Field(
        default=0.05,
        ge=0,
        le=1000,
        alias="defaultPrice",
        description="Price of one SMS to a country `prices` does not list.",
    )
    conversion_threshold: float = Field(
        default=0.2,
        ge=0,
        le=1,
        alias="conversionThreshold",
        description="Share of sent codes verified below which a country is suspended; 0: off.",
    )
    conversion_min_sends: int = Field(
        default=20,
        ge=1,
        le=1_000_000,
        alias="conversionMinSends",
        description="SMS sent to a country within the window before its conversion is judged.",
    )
    conversion_window_seconds: int = Field(
        default=3600, ge=60, le=86_400, alias="conversionWindowSeconds"
    )
    suspension_seconds: int | None = Field(
        default=3600,
        ge=60,
        le=30 * 86_400,
        alias="suspensionSeconds",
        description="How long a suspension lasts; null: until an admin resumes the country.",
    )

    @field_validator("allowed_countries", "denied_countries")
    @classmethod
    def _known_regions(cls, values: list[str]) -> list[str]:
        return _regions(values)

    @field_validator("prices")
    @classmethod
    def _priced_regions(cls, values: dict[str, float]) -> dict[str, float]:
        regions = _regions(list(values))
        if any(not 0 <= price <= 1000 for price in values.values()):
            raise ValueError("a price must be between 0 and 1000")
        return dict(zip(regions, values.values(), strict=True))

    @field_validator("allowed_number_types")
    @classmethod
    def _once_each(cls, values: list[NumberType]) -> list[NumberType]:
        if len(set(values)) != len(values):
            raise ValueError("a number type is listed twice")
        return values

    @model_validator(mode="after")
    def _not_both_ways(self) -> SmsProtectionSettings:
        both = set(self.allowed_countries) & set(self.denied_countries)
        if both:
            raise ValueError(f"allowed and denied at once: {', '.join(sorted(both))}")
        return self

    def price_of(self, country: str | None) -> float:
        return self.prices.get(country or "", self.default_price)
