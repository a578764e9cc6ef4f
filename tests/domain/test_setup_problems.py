"""Every console page asks `SignInExperiences.setup_problems`: it reads the document once, and
a connector only where the document needs one, so a healthy tenant's banner check costs no extra
read."""

from __future__ import annotations

from typing import Any

from phoneauth.domain.setup_problems import SetupProblems, SmsSetupProblem
from phoneauth.domain.sign_in_experience import SignInExperience, SignInExperiences

USERNAME_ONLY = {
    "signUp": {"identifiers": ["username"], "password": True, "verify": False},
    "signIn": {"methods": [{"identifier": "username", "password": True}]},
    "forgotPasswordMethods": [],
}
EMAIL_AND_PHONE = {
    "signUp": {"identifiers": ["email"], "password": True, "verify": True},
    "signIn": {
        "methods": [
            {"identifier": "email", "password": True, "verificationCode": True},
            {"identifier": "phone", "password": False, "verificationCode": True},
        ]
    },
    "forgotPasswordMethods": ["EmailVerificationCode"],
}


class Store:
    def __init__(self, document: dict[str, Any] | None) -> None:
        self.document = None if document is None else SignInExperience.model_validate(document)
        self.reads = 0

    async def get(self, tenant_id: str) -> SignInExperience | None:
        self.reads += 1
        return self.document

    async def save(self, tenant_id: str, document: SignInExperience) -> SignInExperience:
        raise AssertionError("not saved here")


class Connectors:
    """No connector of either kind; counts the lookups."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    async def active_sms_connector(self, tenant_id: str) -> None:
        self.lookups.append("Sms")

    async def active_email_connector(self, tenant_id: str) -> None:
        self.lookups.append("Email")


async def problems(document: dict[str, Any] | None) -> tuple[SetupProblems, int, list[str]]:
    store, connectors = Store(document), Connectors()
    found = await SignInExperiences(store, connectors).setup_problems("default")
    return found, store.reads, connectors.lookups


async def test_a_document_that_needs_no_connector_reads_none() -> None:
    assert await problems(USERNAME_ONLY) == (SetupProblems(), 1, [])


async def test_each_kind_the_document_needs_is_looked_up_once_and_named() -> None:
    found, reads, lookups = await problems(EMAIL_AND_PHONE)
    assert found == SetupProblems(
        sms=SmsSetupProblem(on_default=False, features=("sign-in with a code by SMS",)),
        email=(
            "sign-up with an email address",
            "sign-in with a code by email",
            "password reset by email",
        ),
    )
    assert (reads, sorted(lookups)) == (1, ["Email", "Sms"])


async def test_the_unsaved_default_waits_for_an_sms_connector() -> None:
    assert await problems(None) == (
        SetupProblems(sms=SmsSetupProblem(on_default=True)),
        1,
        ["Sms"],
    )
