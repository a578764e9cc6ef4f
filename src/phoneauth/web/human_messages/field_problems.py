"""pydantic's field errors (`details.errors`: a dotted path and pydantic's text) as sentences that
name the field by its form label.

The API keeps pydantic's texts for programs ("Field required", "Value error, …"); a person reads
"“Account SID” is required." The texts are pydantic 2's `msg` templates; one it does not know
is kept, without its "Value error, " prefix, as a sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from phoneauth.domain.connector_management import MASKED_SECRET_PROBLEM, SERVER_FILE_PROBLEM

THIS_FIELD = "This field"

_PREFIXES = ("Value error, ", "Assertion failed, ")
_CHOICES = re.compile(r"Input should be ('[^']*'(?:, '[^']*')*(?: or '[^']*')?)$")
_MIN_ITEMS = re.compile(r"\w+ should have at least (\d+) items? after validation")
_MAX_ITEMS = re.compile(r"\w+ should have at most (\d+) items? after validation")
_MIN_CHARS = re.compile(r"String should have at least (\d+) characters?")
_MAX_CHARS = re.compile(r"String should have at most (\d+) characters?")

_FIXED: dict[str, str] = {
    "Field required": "{subject} is required.",
    "Extra inputs are not permitted": "{subject} is not a setting of this provider.",
    "Input should be a valid string": "{subject} must be text.",
    "Input should be a valid boolean": "{subject} must be on or off.",
    "Input should be a valid integer": "{subject} must be a whole number.",
    "Input should be a valid number": "{subject} must be a number.",
    "Input should be a valid dictionary": "{subject} must be a JSON object ({ … }).",
    "Input should be a valid list": "{subject} must be a JSON list ([ … ]).",
    "Input should be a valid tuple": "{subject} must be a JSON list ([ … ]).",
    MASKED_SECRET_PROBLEM: "{subject} is a secret with no saved value to keep: type it in.",
    SERVER_FILE_PROBLEM: "{subject} names a file on the server; set it there, not here.",
}


def _choices(found: str) -> str:
    return ", ".join(re.findall(r"'([^']*)'", found))


_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (_CHOICES, lambda m: "{subject} must be one of: " + _choices(m.group(1)) + "."),
    (_MIN_ITEMS, lambda m: "{subject} needs at least " + _count(m.group(1), "entry") + "."),
    (_MAX_ITEMS, lambda m: "{subject} takes at most " + _count(m.group(1), "entry") + "."),
    (
        _MIN_CHARS,
        lambda m: (
            "{subject} cannot be empty."
            if m.group(1) == "1"
            else "{subject} needs at least " + _count(m.group(1), "character") + "."
        ),
    ),
    (_MAX_CHARS, lambda m: "{subject} takes at most " + _count(m.group(1), "character") + "."),
)


def _count(number: str, noun: str) -> str:
    if number == "1":
        return f"one {noun}"
    return f"{number} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def problem_sentence(message: str, subject: str = THIS_FIELD) -> str:
    """pydantic's `message` about `subject` (a label in quotes, "This field"...) as a sentence."""
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            rest = message.removeprefix(prefix).strip()
            # "must be an absolute URL" reads as the field's: "“Endpoint” must be …"
            return _sentence(f"{subject} {rest}" if rest[:1].islower() else rest)
    template = next(
        (
            text
            for known, text in _FIXED.items()
            if message in (known, known + ".") or message.startswith(known + ",")
        ),
        None,
    )
    if template is None:
        for pattern, make in _PATTERNS:
            found = pattern.match(message)
            if found:
                template = make(found)
                break
    if template is None:
        if message.startswith("Input should be"):
            return _sentence(subject + " must be" + message.removeprefix("Input should be"))
        return _sentence(message)
    return template.replace("{subject}", subject)


def _words(key: str) -> str:
    """`usageType` → `usage type`, `templateCode` → `template code`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: " " + m.group(1).lower(), key).lower()


def subject_of(path: str, labels: Mapping[str, str], *, under_field: bool = False) -> str:
    """Who a problem is about, by the form's labels: `templates.0.usageType` → "The usage type
    of template 1"; `accountSID` → "“Account SID”" (or "This field" shown under it)."""
    if path in ("", "(config)"):
        return "The configuration"
    key, _, rest = path.partition(".")
    label = labels.get(key)
    if not rest:
        if under_field:
            return THIS_FIELD
        return f"“{label}”" if label else f"The setting “{key}”"
    parts = rest.split(".")
    item = "template" if key == "templates" else "entry"
    if parts[0].isdigit():
        place = f"{item} {int(parts[0]) + 1}"
        if len(parts) == 1:
            return place[0].upper() + place[1:]
        return f"The {_words(parts[-1])} of {place}"
    owner = "this field" if under_field else (f"“{label}”" if label else f"“{key}”")
    return f"The {_words(parts[-1])} in {owner}"


def describe(problem: Mapping[str, object], labels: Mapping[str, str]) -> str:
    """One `details.errors` item, named by the form's labels, as a sentence."""
    path = str(problem.get("field", ""))
    message = str(problem.get("message", "is not valid"))
    return problem_sentence(message, subject_of(path, labels))
