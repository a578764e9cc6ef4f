"""How an SMS text travels: its alphabet (GSM-7 or UCS-2), its length and its billed parts.

Rules of 3GPP TS 23.038 (the GSM 7-bit default alphabet and its extension table) and TS 23.040
(concatenated SMS), as providers bill them:

- A text made only of the default alphabet and its extension table goes as **GSM-7**: 160
  septets in one SMS, 153 per part when concatenated (the user data header takes 7). An
  extension-table character (`€ [ ] { } ^ ~ \\ |` and form feed) costs 2 septets (escape + code)
  and is never split across two parts.
- Any other character makes the whole text **UCS-2** (UTF-16 in practice): 70 code units in one
  SMS, 67 per part. A character outside the Basic Multilingual Plane (most emoji) is a surrogate
  pair: 2 units, never split across two parts.

`web/static/sms_segments.js` mirrors this module for the console's live count; the shared cases
in `tests/connectors/segments_cases.json` are checked against both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The default alphabet's 127 characters (TS 23.038 §6.2.1; position 0x1B is the escape)."""

GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""The extension table's characters (TS 23.038 §6.2.1.1): escape + code, 2 septets each."""

SINGLE_LIMIT: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
PART_LIMIT: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True, slots=True)
class SmsSize:
    """What a text costs.

    Attributes:
        encoding: `GSM-7` or `UCS-2`.
        characters: the length as the SMS counts it: septets for GSM-7 (an extension-table
            character counts 2), UTF-16 code units for UCS-2 (an emoji counts 2).
        segments: the SMS parts it travels in, each billed as one message.
    """

    encoding: Encoding
    characters: int
    segments: int


_GSM7 = GSM7_BASIC | GSM7_EXTENSION


def is_gsm7(text: str) -> bool:
    """True when the whole text fits the GSM 7-bit alphabet (extension table included)."""
    return _GSM7.issuperset(text)


def _units(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def measure(text: str) -> SmsSize:
    """The encoding, length and parts of `text` (an empty text still takes one SMS)."""
    encoding: Encoding
    # Counted by the string's own C loops: every code SMS is measured on its way out.
    if is_gsm7(text):
        encoding = "GSM-7"
        total = len(text) + sum(text.count(char) for char in GSM7_EXTENSION)
    else:
        encoding = "UCS-2"
        total = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if total <= SINGLE_LIMIT[encoding]:
        return SmsSize(encoding, total, 1)
    units = [_units(char, encoding) for char in text]
    # Concatenated: a character never straddles two parts, so a part may end a unit short.
    per_part, segments, used = PART_LIMIT[encoding], 1, 0
    for size in units:
        if used + size > per_part:
            segments, used = segments + 1, 0
        used += size
    return SmsSize(encoding, total, segments)
