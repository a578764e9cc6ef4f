"""The shipped country names are CLDR's current English names, for every region phonenumbers
dials (babel, a dev dependency, is imported here, never in the app)."""

from __future__ import annotations

import json

import phonenumbers
import pytest
from babel import Locale

from phoneauth.web.phone_input import COUNTRY_NAMES_FILE, countries


def shipped() -> dict[str, str]:
    names: dict[str, str] = json.loads(COUNTRY_NAMES_FILE.read_text(encoding="utf-8"))
    return names


def test_the_file_is_what_scripts_country_names_writes_from_cldr() -> None:
    territories = Locale("en").territories
    expected = {region: territories[region] for region in phonenumbers.SUPPORTED_REGIONS}
    assert shipped() == expected, "run: .venv/bin/python scripts/country_names.py"


@pytest.mark.parametrize(
    ("region", "name"),
    [
        ("SZ", "Eswatini"),
        ("TR", "Türkiye"),
        ("MK", "North Macedonia"),
        ("CZ", "Czechia"),
        ("CI", "C\u00f4te d\u2019Ivoire"),  # CLDR writes a typographic apostrophe
        ("XK", "Kosovo"),
        ("DE", "Germany"),
    ],
)
def test_current_names(region: str, name: str) -> None:
    assert shipped()[region] == name
    assert next(c.name for c in countries() if c.region == region) == name


def test_no_former_name_is_left() -> None:
    names = set(shipped().values())
    assert not names & {"Swaziland", "Macedonia", "Czech Republic", "Turkey"}
