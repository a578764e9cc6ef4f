"""The phone field of the end-user pages: the country list, the default country, as-you-type format.

The regions and calling codes come from `phonenumbers`, so the list follows the library's
numbering plans, and their names from the Unicode CLDR (`country_names.json`, current names such
as Eswatini or Czechia); the browser asks `POST /api/phone-format` to format
what is typed, since `phonenumbers.AsYouTypeFormatter` has no JavaScript twin here. The number
travels in the body, not the query string: a number being typed must not reach access logs.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.web.errors import InvalidInputError, error_responses

FALLBACK_REGION = "US"

# A language tag without a region (`de`, `fr`) → the country most of its speakers dial from.
_LANGUAGE_REGIONS = {
    "ar": "SA", "bg": "BG", "cs": "CZ", "da": "DK", "de": "DE", "el": "GR", "en": "US",
    "es": "ES", "et": "EE", "fa": "IR", "fi": "FI", "fr": "FR", "he": "IL", "hi": "IN",
    "hr": "HR", "hu": "HU", "id": "ID", "it": "IT", "ja": "JP", "ko": "KR", "lt": "LT",
    "lv": "LV", "ms": "MY", "nb": "NO", "nl": "NL", "nn": "NO", "no": "NO", "pl": "PL",
    "pt": "BR", "ro": "RO", "ru": "RU", "sk": "SK", "sl": "SI", "sr": "RS", "sv": "SE",
    "th": "TH", "tr": "TR", "uk": "UA", "vi": "VN", "zh": "CN",
}  # fmt: skip

_MAX_ACCEPT_LANGUAGE = 512


@dataclass(frozen=True, slots=True)
class Country:
    region: str
    name: str
    calling_code: int
    example: str
    """A mobile number as the country writes it, for the field's placeholder."""


COUNTRY_NAMES_FILE = Path(__file__).with_name("country_names.json")


@cache
def _country_names() -> dict[str, str]:
    # Written by scripts/country_names.py from CLDR (babel, a dev dependency: the app needs
    # neither it nor phonenumbers' geocoder, ~135 MB); tests/web/test_country_names.py checks it.
    names: dict[str, str] = json.loads(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))
    return names


def country_name(region: str) -> str:
    """The English name of a region."""
    return _country_names().get(region, region)


def _sort_key(name: str) -> str:
    """`Åland Islands` between `Albania` and `Algeria`, as people look for it."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def example_number(region: str) -> str:
    """`01512 3456789` for DE: phonenumbers' example mobile number, nationally formatted."""
    number = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    if number is None:
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@cache
def countries() -> tuple[Country, ...]:
    """Every region `phonenumbers` has a numbering plan for, by name."""
    found = [
        Country(
            region,
            country_name(region),
            phonenumbers.country_code_for_region(region),
            example_number(region),
        )
        for region in phonenumbers.SUPPORTED_REGIONS
    ]
    return tuple(sorted(found, key=lambda country: _sort_key(country.name)))


@cache
def _example_numbers() -> dict[str, str]:
    return {country.region: country.example for country in countries()}


def example_for(region: str) -> str:
    """The phone field's placeholder: `region`'s example number, "" for an unknown region (a
    dict lookup: the pages asked for it on every load)."""
    return _example_numbers().get(region, "")


def default_region(accept_language: str | None) -> str:
    """The country to preselect: `de-DE` → DE, `pt` → BR, nothing useful → US.

    Tags are tried in the order of their `q` weights; a tag's region beats its language.
    """
    tags: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "")[:_MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag and weight > 0:
            tags.append((-weight, position, tag.strip()))
    for _, _, tag in sorted(tags):
        language, *subtags = tag.replace("_", "-").split("-")
        for subtag in subtags:
            region = subtag.upper()
            if len(region) == 2 and region in phonenumbers.SUPPORTED_REGIONS:
                return region
        region = _LANGUAGE_REGIONS.get(language.lower(), "")
        if region:
            return region
    return FALLBACK_REGION


class PhoneFormat(BaseModel):
    formatted: str = Field(description="What the field should show, as the country writes it.")
    e164: str | None = Field(description="The number in E.164 once it is a valid number.")
    international: str | None = Field(
        description="The valid number as written abroad (`+49 1511 2345678`), to show back."
    )
    region: str | None = Field(description="The number's country, once it is known.")


def format_as_typed(region: str, typed: str) -> PhoneFormat:
    """`0151 12345678` for DE and `015112345678`; a leading `+` formats internationally."""
    digits = "".join(ch for ch in typed if ch.isdigit())
    if typed.strip().startswith("+"):
        digits = "+" + digits
    formatter = phonenumbers.AsYouTypeFormatter(region)
    formatted = ""
    for ch in digits:
        formatted = formatter.input_digit(ch)
    e164 = international = found_region = None
    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        international = phonenumbers.format_number(
            number, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        found_region = phonenumbers.region_code_for_number(number)
    return PhoneFormat(
        formatted=formatted, e164=e164, international=international, region=found_region
    )


def dialled_number(region: str, typed: str) -> str:
    """What a person typed with the country they picked, as E.164 when it is a valid number.

    `0612345678` with FR → `+33612345678`. Anything else comes back as typed, so the caller's
    own check answers in words why it is not a phone number.
    """
    code = region.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        code = FALLBACK_REGION
    answer = format_as_typed(code, typed[:32])
    return answer.e164 or typed


class UnknownRegionError(InvalidInputError):
    """`region` is not a country phonenumbers knows (ISO 3166 alpha-2, like `DE`)."""


class PhoneFormatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = Field(
        min_length=2, max_length=2, description="The country picked (ISO 3166).", examples=["DE"]
    )
    digits: str = Field(
        default="",
        max_length=32,
        pattern=r"^\+?[0-9 ()./-]*$",
        description="What was typed so far: digits, separators, an optional leading `+`.",
        examples=["015112345678"],
    )


phone_format_router = APIRouter(tags=["phone numbers"])


@phone_format_router.post(
    "/phone-format",
    response_model=PhoneFormat,
    summary="Format a phone number as it is typed, for a country (used by the end-user pages)",
    responses=error_responses(UnknownRegionError),
)
async def phone_format(body: PhoneFormatRequest) -> PhoneFormat:
    code = body.region.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise UnknownRegionError(f"Unknown country `{body.region}`: use a code like DE or US.")
    return format_as_typed(code, body.digits)
