"""What a person reads for an API error: one sentence per code for end users, one for admins.

The API's JSON (`code`, `message`, `details`) stays as Logto clients expect it. The pages
(server-rendered, and the pages' scripts through `end_user_table()`, served as `messages.js`)
and the console show these sentences instead; a code without an entry gets a fallback, never
the raw message of a provider or a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from phoneauth.web.human_messages.field_problems import describe, problem_sentence, subject_of
from phoneauth.web.human_messages.setting_words import SETTING_WORDS, setting_in_words
from phoneauth.web.human_messages.table import (
    ADMIN_FALLBACK,
    ADMIN_NAMED,
    ADMIN_VARIANTS,
    CODES_UNAVAILABLE,
    EMAIL_UNAVAILABLE,
    END_USER_BY_KIND,
    END_USER_FALLBACK,
    MESSAGES,
    SMS_UNAVAILABLE,
    Sentences,
)

__all__ = [
    "ADMIN_FALLBACK",
    "CODES_UNAVAILABLE",
    "EMAIL_UNAVAILABLE",
    "END_USER_BY_KIND",
    "END_USER_FALLBACK",
    "MESSAGES",
    "SETTING_WORDS",
    "SMS_UNAVAILABLE",
    "Sentences",
    "admin_sentence",
    "describe",
    "end_user_script",
    "end_user_sentence",
    "end_user_table",
    "problem_sentence",
    "setting_in_words",
    "subject_of",
]

_CONNECTOR = "connector."


def end_user_sentence(code: str) -> str:
    """The end user's sentence; an unknown `connector.*` code (a third-party connector's) is
    still "no code can be sent now"."""
    found = MESSAGES.get(code)
    if found is not None:
        return found.end_user
    return SMS_UNAVAILABLE if code.startswith(_CONNECTOR) else END_USER_FALLBACK


def end_user_table() -> dict[str, str]:
    """Code → end-user sentence, plus `""` → the fallback: what the pages' script reads.

    `code@kind` keys hold `END_USER_BY_KIND`: the sentence when the page sent an email address
    or a username (`connector.@email` for any connector code on an email send)."""
    table = {code: sentences.end_user for code, sentences in MESSAGES.items()}
    by_kind = {f"{code}@{kind}": text for (code, kind), text in END_USER_BY_KIND.items()}
    return table | by_kind | {"": END_USER_FALLBACK, _CONNECTOR: SMS_UNAVAILABLE}


def end_user_script() -> bytes:
    """`end_user_table()` as the script the pages load before theirs (`/static/messages.js`):
    it sets `window.phoneauthMessages`. ASCII, whatever the sentences hold."""
    return f"window.phoneauthMessages = {json.dumps(end_user_table(), sort_keys=True)};\n".encode()


def _words_list(paths: object) -> str:
    if not isinstance(paths, Sequence) or isinstance(paths, str) or not paths:
        return "some of its settings"
    words = [setting_in_words(str(path)) for path in paths]
    return "; ".join([words[0], *(w[0].lower() + w[1:] for w in words[1:])])


def admin_sentence(code: str, details: Mapping[str, object] | None = None) -> str:
    """The admin's sentence, with the setting, dependents or wait that `details` name."""
    facts = details or {}
    kind = str(facts.get("type") or facts.get("method") or "")
    found = MESSAGES.get(code)
    text = ADMIN_VARIANTS.get((code, kind)) or (found.admin if found else ADMIN_FALLBACK)
    key, naming = ADMIN_NAMED.get(code, ("", ""))
    if key and isinstance(facts.get(key), str):
        text = naming.replace("{value}", str(facts[key]))
    setting = facts.get("setting")
    retry_after = facts.get("retry_after")
    fills = {
        "{setting}": setting_in_words(str(setting)) if setting else "This setting",
        "{dependents}": _words_list(facts.get("dependents")),
        "{retry_after}": str(retry_after) if isinstance(retry_after, int) else "a few",
    }
    for placeholder, value in fills.items():
        text = text.replace(placeholder, value)
    return text
