"""Write src/phoneauth/web/country_names.json: the English name of every region phonenumbers
has a numbering plan for, from the Unicode CLDR (through babel, a dev dependency).

CLDR follows renamings (Eswatini, Türkiye, North Macedonia, Czechia); phonenumbers' geocoder
data still said Swaziland and Macedonia. The app reads the JSON, so it needs neither babel nor
the geocoder (~135 MB) at run time. Run after upgrading babel or phonenumbers:

    .venv/bin/python scripts/country_names.py

tests/web/test_country_names.py fails while the file differs from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

import phonenumbers
from babel import Locale

TARGET = Path(__file__).resolve().parents[1] / "src/phoneauth/web/country_names.json"


def country_names() -> dict[str, str]:
    territories = Locale("en").territories
    return {
        region: territories.get(region, region) for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    }


if __name__ == "__main__":
    text = json.dumps(country_names(), ensure_ascii=False, indent=0, sort_keys=True) + "\n"
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")  # noqa: T201 - a script's report
