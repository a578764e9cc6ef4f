"""The shipped country names match phonenumbers' geocoder data (imported here, not in the app)."""

from __future__ import annotations

import json

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

from phoneauth.web.phone_input import _MISSING_NAMES, COUNTRY_NAMES_FILE


def _english(region: str) -> str:
    names = LOCALE_DATA.get(region, {})
    name = names.get("en", "")
    if name.startswith("*"):  # the geocoder marks a shared name as `*<other language>`
        name = names.get(name[1:], "")
    return name or _MISSING_NAMES.get(region, region)


def test_the_shipped_names_are_the_geocoders_english_names() -> None:
    shipped = json.loads(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))
    expected = {region: _english(region) for region in phonenumbers.SUPPORTED_REGIONS}
    assert shipped == expected
    assert shipped["DE"] == "Germany"
