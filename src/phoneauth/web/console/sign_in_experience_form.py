"""The sign-in experience form: its choices, what each needs, and the posted form read back.

Each choice that sends codes needs a connector of its kind (Logto's `enabled_connector_not_found`
and `forgot_password_method_requires_connector`). The form still offers it, so an admin sees it
exists, but names the connector to set up first; the save runs the same rules either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from phoneauth.domain.sign_in_experience import (
    ForgotPasswordMethod,
    SecondaryIdentifier,
    SecondaryIdentifierType,
    SignInIdentifier,
    SignUp,
)

SMS = "Sms"
EMAIL = "Email"
"""Logto's connector types, as the rules name them."""

SIGN_UP_CHOICES = {
    "username": ("Username", ["username"]),
    "email": ("Email address", ["email"]),
    "phone": ("Phone number", ["phone"]),
    "emailOrPhone": ("Email address or phone number", ["email", "phone"]),
    "none": ("None (the default until an SMS connector exists)", []),
}
IDENTIFIER_LABELS = {
    SignInIdentifier.PHONE.value: "Phone number",
    SignInIdentifier.EMAIL.value: "Email address",
    SignInIdentifier.USERNAME.value: "Username",
}
"""What each sign-in identifier is called on the page (its value stays Logto's)."""

SECONDARY_LABELS = {
    SecondaryIdentifierType.USERNAME.value: "Username",
    SecondaryIdentifierType.EMAIL.value: "Email address",
    SecondaryIdentifierType.PHONE.value: "Phone number",
    SecondaryIdentifierType.EMAIL_OR_PHONE.value: "Email address or phone number",
}
FORGOT_PASSWORD_LABELS = {
    ForgotPasswordMethod.EMAIL_VERIFICATION_CODE.value: "A code by email",
    ForgotPasswordMethod.PHONE_VERIFICATION_CODE.value: "A code by SMS",
}

NEEDS = {
    "username": (),
    "email": (EMAIL,),
    "phone": (SMS,),
    "emailOrPhone": (EMAIL, SMS),
    "none": (),
    ForgotPasswordMethod.EMAIL_VERIFICATION_CODE.value: (EMAIL,),
    ForgotPasswordMethod.PHONE_VERIFICATION_CODE.value: (SMS,),
}
"""The connector types a choice sends codes through: a sign-up identifier (primary or
secondary), a forgot-password method, or a sign-in identifier with a verification code."""

KIND_NAMES = {SMS: "SMS connector", EMAIL: "Email connector"}
CONNECTOR_NAMES = {SMS: "an SMS connector", EMAIL: "an Email connector"}
CONNECTOR_PAGES = {SMS: "sms", EMAIL: "email"}
"""The `?type=` of the console's provider choice for each kind."""


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of the form: its value, its label, and the missing connectors it needs."""

    value: str
    label: str
    missing: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        if not self.missing:
            return self.label
        return f"{self.label} (needs {' and '.join(CONNECTOR_NAMES[t] for t in self.missing)})"


@dataclass(frozen=True, slots=True)
class Hint:
    """A sentence above the form: the choices marked as needing this connector wait for it."""

    text: str
    connector_type: str

    @property
    def link_text(self) -> str:
        return f"Set up {CONNECTOR_NAMES[self.connector_type]}"

    @property
    def page(self) -> str:
        return CONNECTOR_PAGES[self.connector_type]


def choices(labels: dict[str, str], available: set[str]) -> list[Choice]:
    return [
        Choice(value, label, tuple(t for t in NEEDS.get(value, ()) if t not in available))
        for value, label in labels.items()
    ]


def hints(available: set[str]) -> list[Hint]:
    """One sentence per missing connector, for the choices the form marks as needing it."""
    return [
        Hint(
            f"This tenant has no {KIND_NAMES[t]} yet: the choices marked "
            f"“needs {CONNECTOR_NAMES[t]}” cannot be saved until one is set up.",
            t,
        )
        for t in (EMAIL, SMS)
        if t not in available
    ]


def code_needs(identifier: str, available: set[str]) -> str:
    """What a sign-in method's “Verification code” box says it needs, or nothing."""
    missing = [t for t in NEEDS.get(identifier, ()) if t not in available]
    return f"(needs {CONNECTOR_NAMES[missing[0]]})" if missing else ""


def sign_up_choice(sign_up: SignUp) -> str:
    identifiers = sorted(i.value for i in sign_up.identifiers)
    for key, (_, values) in SIGN_UP_CHOICES.items():
        if sorted(values) == identifiers:
            return key
    return "phone"


def secondary_identifiers(form: FormData, current: SignUp) -> list[SecondaryIdentifier]:
    """The ticked additional identifiers: those kept in their saved order, new ones after.

    An email or phone number asked for at sign-up is verified with a code (Logto's
    `passwordless_requires_verify` refuses anything else), so the form does not ask.
    """
    ticked = [str(v) for v in form.getlist("secondary") if str(v) in SECONDARY_LABELS]
    kept = [item for item in current.secondary_identifiers if item.identifier.value in ticked]
    known = {item.identifier.value for item in kept}
    added = [
        SecondaryIdentifier(
            identifier=SecondaryIdentifierType(value),
            verify=None if value == SecondaryIdentifierType.USERNAME.value else True,
        )
        for value in SECONDARY_LABELS
        if value in ticked and value not in known
    ]
    return kept + added


def forgot_password_methods(
    form: FormData, current: list[ForgotPasswordMethod] | None
) -> list[ForgotPasswordMethod] | None:
    """The ticked reset methods. Logto's `null` (every method whose connector exists) is shown
    as both ticked and stays `null` while both stay ticked."""
    ticked = [
        ForgotPasswordMethod(str(v))
        for v in form.getlist("forgot_password")
        if str(v) in FORGOT_PASSWORD_LABELS
    ]
    if current is None and set(ticked) == set(ForgotPasswordMethod):
        return None
    return ticked


def forgot_password_ticked(current: list[ForgotPasswordMethod] | None) -> set[str]:
    if current is None:
        return set(FORGOT_PASSWORD_LABELS)
    return {method.value for method in current}


def sign_in_methods(form: FormData, max_methods: int) -> list[dict[str, Any]]:
    methods = []
    for index in range(max_methods + 1):
        identifier = form.get(f"method-{index}-identifier")
        if not isinstance(identifier, str) or not identifier:
            continue
        if form.get("action") == f"remove-{index}":
            continue
        methods.append(
            {
                "identifier": identifier,
                "password": form.get(f"method-{index}-password") == "on",
                "verificationCode": form.get(f"method-{index}-code") == "on",
                "isPasswordPrimary": form.get(f"method-{index}-password-first") == "on",
            }
        )
    return methods
