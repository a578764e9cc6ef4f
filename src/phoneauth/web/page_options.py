"""What the end-user pages offer: the sign-in experience read against the connectors at hand.

The pages speak of three kinds of identifier, Logto's `phone`, `email` and `username`. A code
needs its connector (SMS for a phone number, Email for an address); a kind the tenant enabled
whose only way in is a code it cannot send now is *waiting*, and the pages say so in words
(`SMS_UNAVAILABLE`, `EMAIL_UNAVAILABLE`) instead of offering a field that can only fail.
Everything a person reads about the kinds (labels, refusals) is written here, once, for the
templates and for `static/experience.js` (through the page's JSON block).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from phoneauth.domain.sign_in_experience import (
    ForgotPasswordMethod,
    SignInExperience,
    SignInMode,
)
from phoneauth.web.human_messages import CODES_UNAVAILABLE, EMAIL_UNAVAILABLE, SMS_UNAVAILABLE

PHONE, EMAIL, USERNAME = "phone", "email", "username"
KINDS = (PHONE, EMAIL, USERNAME)
"""In the order a label names them: "Phone number, email or username"."""

_LABEL = {PHONE: "phone number", EMAIL: "email", USERNAME: "username"}
_NOUN = {PHONE: "phone number", EMAIL: "email address", USERNAME: "username"}
_WITH = {PHONE: "a phone number", EMAIL: "an email address", USERNAME: "a username"}
_ACTION = {
    "sign-in": "Signing in",
    "register": "Creating an account",
    "forgot-password": "Resetting a password",
}


def either(words: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _ordered(kinds: Iterable[str]) -> list[str]:
    wanted = set(kinds)
    return [kind for kind in KINDS if kind in wanted]


def field_label(kinds: Iterable[str]) -> str:
    """The identifier field's label: "Phone number, email or username"."""
    text = either([_LABEL[kind] for kind in _ordered(kinds)])
    return text[:1].upper() + text[1:]


def unavailable(waiting: Iterable[str]) -> str:
    """The sentence for kinds that wait for their connector."""
    kinds = set(waiting)
    if kinds == {PHONE}:
        return SMS_UNAVAILABLE
    if kinds == {EMAIL}:
        return EMAIL_UNAVAILABLE
    return CODES_UNAVAILABLE


def refusals(flow: str, accepted: Sequence[str], waiting: Sequence[str]) -> dict[str, str]:
    """Kind → what the page says when that kind is typed where it is not accepted."""
    use = either([_NOUN[kind] for kind in _ordered(accepted)])
    return {
        kind: unavailable([kind])
        if kind in waiting
        else f"{_ACTION[flow]} with {_WITH[kind]} is not available here. Use your {use}."
        for kind in KINDS
        if kind not in accepted
    }


def turned_off(kinds: Iterable[str]) -> str:
    """The sign-in page's sentence when the tenant lets nobody sign in."""
    named = [_WITH[kind] for kind in _ordered(kinds)]
    if not named:
        return "Signing in is turned off here."
    return f"Signing in with {either(named)} is turned off here."


@dataclass(frozen=True, slots=True)
class Methods:
    """How a kind signs in on this tenant now."""

    password: bool
    code: bool


@dataclass(frozen=True, slots=True)
class PageOptions:
    """What the sign-in experience, read against the connectors, lets the pages offer."""

    sign_in_open: bool
    register_open: bool
    code_sign_in: bool
    password_sign_in: bool
    password_first: bool
    sign_up_password: bool
    forgot_password: bool
    sms_available: bool
    email_available: bool
    sign_in_methods: dict[str, Methods] = field(default_factory=dict)
    sign_in_waiting: tuple[str, ...] = ()
    register_kinds: tuple[str, ...] = ()
    register_waiting: tuple[str, ...] = ()
    forgot_kinds: tuple[str, ...] = ()
    forgot_waiting: tuple[str, ...] = ()
    requirements: tuple[frozenset[str], ...] = ()
    """Logto's mandatory profile as sets of kinds, one of each set needed (`emailOrPhone`: both)."""
    username_required: bool = False

    @classmethod
    def of(cls, experience: SignInExperience, has_sms: bool, has_email: bool) -> PageOptions:
        sends = {PHONE: has_sms, EMAIL: has_email, USERNAME: False}
        methods, sign_in_waiting = _sign_in(experience, sends)
        register_kinds, register_waiting = _register(experience, sends)
        forgot_kinds, forgot_waiting = _forgot(experience, sends)
        if not experience.sign_in.methods and not experience.sign_up.identifiers and not has_sms:
            # A fresh tenant: the default offers nothing until its first SMS connector.
            sign_in_waiting = register_waiting = forgot_waiting = (PHONE,)
        code = any(m.code for m in methods.values())
        password = any(m.password for m in methods.values())
        password_primary = any(
            m.password and m.is_password_primary and str(m.identifier) in methods
            for m in experience.sign_in.methods
        )
        return cls(
            sign_in_open=experience.sign_in_mode is not SignInMode.REGISTER and bool(methods),
            register_open=experience.sign_in_mode is not SignInMode.SIGN_IN
            and bool(register_kinds),
            code_sign_in=code,
            password_sign_in=password,
            password_first=password and (password_primary or not code),
            sign_up_password=experience.sign_up.password,
            forgot_password=bool(forgot_kinds),
            sms_available=has_sms,
            email_available=has_email,
            sign_in_methods=methods,
            sign_in_waiting=sign_in_waiting,
            register_kinds=register_kinds,
            register_waiting=register_waiting,
            forgot_kinds=forgot_kinds,
            forgot_waiting=forgot_waiting,
            requirements=_requirements(experience),
            username_required=USERNAME
            in {str(kind) for kind in experience.sign_up.identifiers}
            | {str(item.identifier) for item in experience.sign_up.secondary_identifiers},
        )

    def template_values(self) -> dict[str, Any]:
        """Every field by its name, for the templates. Not `dataclasses.asdict`: it copied
        each nested value deeply on every page view, a sixth of the sign-in page's CPU, and
        the templates only read them."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def accepted(self, flow: str) -> tuple[str, ...]:
        """The kinds the first field of `flow` accepts."""
        return {
            "sign-in": tuple(self.sign_in_methods),
            "register": self.register_kinds,
            "forgot-password": self.forgot_kinds,
        }.get(flow, ())

    def bind_kinds(self, flow: str) -> list[str]:
        """The kinds an account coming through `flow` may still have to add (the bind step):
        those of each requirement the first field does not always meet."""
        first = self.accepted(flow)
        if flow == "forgot-password":
            return []
        needed: set[str] = set()
        for requirement in self.requirements:
            if any(kind not in requirement for kind in first):
                needed |= requirement
        return _ordered(needed)

    def asks_username(self, flow: str) -> bool:
        """Whether an account coming through `flow` may still have to choose a username."""
        first = self.accepted(flow)
        return flow != "forgot-password" and self.username_required and first != (USERNAME,)

    def page_values(self, flow: str) -> dict[str, Any]:
        """The template's values for a page that asks for an identifier: what its field
        accepts, in words, and what its script needs."""
        kinds = list(self.accepted(flow))
        values: dict[str, Any] = {
            "flow": flow,
            "kinds": kinds,
            "identifier_label": field_label(kinds),
            "page_script": self.script_options(flow),
            "bind_kinds": self.bind_kinds(flow),
            "asks_username": self.asks_username(flow),
        }
        if flow == "sign-in":
            methods = self.sign_in_methods
            intros = {
                "password": sign_in_intro([k for k in kinds if methods[k].password], password=True),
                "code": sign_in_intro([k for k in kinds if methods[k].code], password=False),
            }
            values["page_script"]["intro"] = intros
            values |= {"intro_password": intros["password"], "intro_code": intros["code"]}
        elif flow == "register":
            values["intro"] = register_intro(kinds)
            values["first_step"] = "username" if kinds == [USERNAME] else "identifier"
        else:
            values["intro"] = forgot_intro(kinds)
        return values

    def script_options(self, flow: str) -> dict[str, Any]:
        """What `static/experience.js` reads from the page's JSON block."""
        accepted = self.accepted(flow)
        waiting = {
            "sign-in": self.sign_in_waiting,
            "register": self.register_waiting,
            "forgot-password": self.forgot_waiting,
        }.get(flow, ())
        sendable = [PHONE] if self.sms_available else []
        sendable += [EMAIL] if self.email_available else []
        return {
            "kinds": _ordered(accepted),
            "refusals": refusals(flow, accepted, waiting) if accepted else {},
            "methods": {
                kind: {"password": m.password, "code": m.code}
                for kind, m in self.sign_in_methods.items()
            },
            # Where an unknown address or number may become an account (sign-in's offer).
            "registerKinds": [k for k in self.register_kinds if k != USERNAME]
            if self.register_open
            else [],
            "sendable": sendable,
        }


def _sign_in(
    experience: SignInExperience, sends: dict[str, bool]
) -> tuple[dict[str, Methods], tuple[str, ...]]:
    found: dict[str, Methods] = {}
    waiting: list[str] = []
    for method in experience.sign_in.methods:
        kind = str(method.identifier)
        configured = method.verification_code and kind != USERNAME
        code = configured and sends[kind]
        if code or method.password:
            before = found.get(kind, Methods(False, False))
            found[kind] = Methods(before.password or method.password, before.code or code)
        elif configured:
            waiting.append(kind)
    return found, tuple(kind for kind in _ordered(waiting) if kind not in found)


def _requirements(experience: SignInExperience) -> tuple[frozenset[str], ...]:
    """The phone and email parts of Logto's mandatory profile (logto-parity §3.6)."""
    sign_up = experience.sign_up
    primary = {str(kind) for kind in sign_up.identifiers}
    found: list[frozenset[str]] = []
    if USERNAME not in primary and primary & {PHONE, EMAIL}:
        found.append(frozenset(primary & {PHONE, EMAIL}))
    for item in sign_up.secondary_identifiers:
        wanted = str(item.identifier)
        if wanted == "emailOrPhone":
            found.append(frozenset({PHONE, EMAIL}))
        elif wanted in (PHONE, EMAIL):
            found.append(frozenset({wanted}))
    return tuple(found)


def _register(
    experience: SignInExperience, sends: dict[str, bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kinds the first step of registration accepts, and those waiting for a connector.

    Logto's mandatory profile: a username wins (with its password: a username alone proves
    nothing and signs in with nothing); else the email and/or phone, verified by a code. Each
    secondary identifier must be obtainable too, or nobody could finish.
    """
    sign_up = experience.sign_up
    primary = {str(kind) for kind in sign_up.identifiers}
    if USERNAME in primary:
        first: list[str] = [USERNAME] if sign_up.password else []
        waiting: list[str] = []
    else:
        coded = [kind for kind in (PHONE, EMAIL) if kind in primary]
        first = [kind for kind in coded if sends[kind]]
        waiting = [kind for kind in coded if not sends[kind]]
    for item in sign_up.secondary_identifiers:
        wanted = str(item.identifier)
        options = [PHONE, EMAIL] if wanted == "emailOrPhone" else [wanted]
        if wanted != USERNAME and not any(sends[kind] for kind in options):
            return (), tuple(_ordered(options))
    return tuple(_ordered(first)), tuple(_ordered(waiting))


_RESET = {
    PHONE: ForgotPasswordMethod.PHONE_VERIFICATION_CODE,
    EMAIL: ForgotPasswordMethod.EMAIL_VERIFICATION_CODE,
}


def _forgot(
    experience: SignInExperience, sends: dict[str, bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Logto's forgot-password availability: the listed methods whose connector exists; with no
    list (`null`), each kind the tenant uses whose connector exists."""
    listed = experience.forgot_password_methods
    used = {str(m.identifier) for m in experience.sign_in.methods} | {
        str(kind) for kind in experience.sign_up.identifiers
    }
    passwords = {str(m.identifier) for m in experience.sign_in.methods if m.password}
    kinds: list[str] = []
    waiting: list[str] = []
    for kind, method in _RESET.items():
        if listed is None:
            wanted, needed = kind in used, kind in passwords
        else:
            wanted = needed = method in listed
        if wanted and sends[kind]:
            kinds.append(kind)
        elif needed:
            waiting.append(kind)
    return tuple(kinds), tuple(waiting)


def sign_in_kinds(experience: SignInExperience) -> list[str]:
    """Every kind a sign-in method names, whatever its connector."""
    return _ordered(str(m.identifier) for m in experience.sign_in.methods)


def _sent_by(kinds: Sequence[str]) -> str:
    """How a code reaches these kinds, said for a person."""
    ordered = _ordered(kinds)
    if ordered == [PHONE]:
        return "text you a code"
    if ordered == [EMAIL]:
        return "email you a code"
    return "send you a code"


def sign_in_intro(kinds: Sequence[str], *, password: bool) -> str:
    """The sign-in page's lead, for the password form or the code form."""
    if password:
        named = [_NOUN[k] for k in _ordered(kinds)]
        if len(named) == 1:
            return f"Enter your {named[0]} and password."
        return f"Enter your {either(named)}, and your password."
    return f"We will {_sent_by(kinds)} to sign in."


def register_intro(kinds: Sequence[str]) -> str:
    ordered = _ordered(kinds)
    if ordered == [USERNAME]:
        return "Choose a username and a password."
    if ordered == [PHONE]:
        return "We will text you a code to confirm your number."
    if ordered == [EMAIL]:
        return "We will email you a code to confirm your address."
    return f"We will send you a code to confirm your {either([_NOUN[k] for k in ordered])}."


def forgot_intro(kinds: Sequence[str]) -> str:
    return (
        f"Enter your {either([_NOUN[k] for k in _ordered(kinds)])} and we will {_sent_by(kinds)}."
    )
