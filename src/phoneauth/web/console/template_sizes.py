"""The SMS size of each template, in words, as the console shows it after a save.

The same figures the editor shows live (`static/sms_segments.js`): the template rendered with a
sample 6-digit code, the tenant's autofill lines appended, measured by `connectors/segments.py`.
Past one part it warns; it never refuses, since a long message still goes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from phoneauth.connectors.autofill import Autofill
from phoneauth.connectors.segments import SmsSize, measure
from phoneauth.connectors.templates import render

SAMPLE_CODE = "123456"


@dataclass(frozen=True, slots=True)
class TemplateSize:
    label: str
    size: SmsSize

    @property
    def summary(self) -> str:
        alphabet = "GSM-7 (plain alphabet)" if self.size.encoding == "GSM-7" else "UCS-2 (Unicode)"
        parts = "1 SMS" if self.size.segments == 1 else f"{self.size.segments} SMS parts"
        return f"{self.size.characters} characters, {alphabet}, {parts}"

    @property
    def warning(self) -> str | None:
        if self.size.segments == 1:
            return None
        return f"This message takes {self.size.segments} SMS parts; each is billed."


def template_sizes(templates: Iterable[Any], autofill: Autofill | None) -> list[TemplateSize]:
    """One entry per template that has text (`content`); provider-kept templates have none."""
    found = []
    for template in templates:
        if not isinstance(template, Mapping) or not isinstance(template.get("content"), str):
            continue
        text = render(template["content"], {"code": SAMPLE_CODE})
        if autofill:
            text = autofill.append_to(text, SAMPLE_CODE)
        usage, locale = template.get("usageType", "?"), template.get("locale")
        found.append(TemplateSize(f"{usage} ({locale})" if locale else str(usage), measure(text)))
    return found


def autofill_lines(autofill: Autofill | None) -> list[str]:
    """The lines the editor appends, `{{code}}` where the code goes (for the page's script)."""
    return [] if autofill is None else autofill.lines("{{code}}")
