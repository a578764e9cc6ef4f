"""One-time-code autofill: the lines appended to an SMS so the phone fills the code in by itself.

- **Android SMS Retriever**: the message must include the app's 11-character hash (Google,
  "Perform SMS Verification on a Server": base64 of a SHA-256, so `A-Z a-z 0-9 + /`). It goes
  on its own line.
- **WebOTP / origin-bound one-time codes** (WICG): the *last* line is `@<host> #<code>`, and the
  browser on `https://<host>` may read the code (Chrome on Android; Safari also uses it to bind
  the `autocomplete="one-time-code"` suggestion to the site).

Both together: the app hash line first, the origin-bound line last, as the WebOTP format needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ANDROID_APP_HASH = re.compile(r"[A-Za-z0-9+/]{11}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def is_host_name(value: str) -> bool:
    """A DNS host name of two labels or more (`id.example.com`), lower case, no port, no scheme;
    `localhost` too, for development."""
    if value == "localhost":
        return True
    labels = value.split(".")
    return (
        len(value) <= 253
        and len(labels) >= 2  # a registrable name has a dot
        and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()  # an IPv4 address is no origin WebOTP binds to
    )


@dataclass(frozen=True, slots=True)
class Autofill:
    """The tenant's autofill lines; both None: the text goes out exactly as rendered.

    Attributes:
        web_otp_domain: the host name of the pages where the code is typed (`id.example.com`).
        android_app_hash: the 11-character SMS Retriever hash of the tenant's Android app.
    """

    web_otp_domain: str | None = None
    android_app_hash: str | None = None

    def __bool__(self) -> bool:
        return bool(self.web_otp_domain or self.android_app_hash)

    def lines(self, code: str | None) -> list[str]:
        """The lines to append, in order; the origin-bound line only when there is a code."""
        found = []
        if self.android_app_hash:
            found.append(self.android_app_hash)
        if self.web_otp_domain and code:
            found.append(f"@{self.web_otp_domain} #{code}")
        return found

    def append_to(self, text: str, code: str | None) -> str:
        """`text` with the lines, each on its own line (the text's own trailing break kept)."""
        lines = self.lines(code)
        if not lines:
            return text
        return text + ("" if text.endswith("\n") else "\n") + "\n".join(lines)
