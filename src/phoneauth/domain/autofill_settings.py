"""The tenant settings of one-time-code autofill (`webOtpDomain`, `androidAppHash`), checked.

The lines themselves are the connector kit's (`connectors/autofill.py`); here only what an admin
may set: a host name the pages are served on, and an 11-character SMS Retriever hash.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from phoneauth.connectors.autofill import ANDROID_APP_HASH, is_host_name


def _empty_is_none(value: object) -> object:
    """An empty string clears the setting, as `null` does (a cleared console field sends "")."""
    return None if isinstance(value, str) and not value.strip() else value


def _host(value: str | None) -> str | None:
    if value is None:
        return None
    host = value.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")  # a name in letters of any script: punycode
    except UnicodeError:
        raise ValueError("is not a host name") from None
    if not is_host_name(host):
        raise ValueError(
            "must be the host name your sign-in pages are served on, such as id.example.com "
            "(no https://, port or path)"
        )
    return host


def _app_hash(value: str | None) -> str | None:
    if value is not None and not ANDROID_APP_HASH.fullmatch(value.strip()):
        raise ValueError(
            "must be the 11-character app hash of Android's SMS Retriever "
            "(letters, digits, + and /), such as FA+9qCX9VSu"
        )
    return None if value is None else value.strip()


WebOtpDomain = Annotated[
    str | None,
    BeforeValidator(_empty_is_none),
    AfterValidator(_host),
    Field(
        alias="webOtpDomain",
        description="Host name of the sign-in pages (`id.example.com`). When set, every code SMS "
        "ends with the line `@id.example.com #123456` (WebOTP's origin-bound format), so "
        "browsers on that site fill the code in; the pages use the WebOTP API.",
        examples=["id.example.com"],
    ),
]
AndroidAppHash = Annotated[
    str | None,
    BeforeValidator(_empty_is_none),
    AfterValidator(_app_hash),
    Field(
        alias="androidAppHash",
        description="The 11-character hash of your Android app for Google's SMS Retriever API. "
        "When set, every code SMS carries it on its own line (before the WebOTP line).",
        examples=["FA+9qCX9VSu"],
    ),
]
