"""The default sign-in experience follows the tenant's SMS connector, and what is broken is named.

A fresh install and a new tenant offer no phone sign-in until an SMS connector exists (the state
Logto's rules would save); a tenant that never saved its document switches phone sign-in on with
its first connector. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from phoneauth.domain.connector_removal import delete_connector
from phoneauth.domain.setup_problems import SmsSetupProblem
from phoneauth.domain.sign_in_experience import (
    SignInExperience,
    SignInMode,
    default_sign_in_experience,
)
from phoneauth.domain.sign_in_experience_rules import check_changes
from phoneauth.domain.tenants import TenantKind
from phoneauth.wiring import Services

EVERY_FIELD = {"sign_up", "sign_in", "sign_in_mode", "mfa", "forgot_password_methods"}


def offers_phone(document: SignInExperience) -> bool:
    return document.phone_sign_up() or document.phone_code_sign_in()


async def add_outbox(services: Services, tenant_id: str = "default") -> str:
    tenant = await services.tenants.get(tenant_id)
    return (await services.connectors.create(tenant, "outbox-sms", {})).id


def test_the_default_without_sms_needs_no_connector_under_logtos_rules() -> None:
    document = default_sign_in_experience(has_sms=False)
    assert not offers_phone(document)
    assert document.sms_dependents() == []
    check_changes(document, EVERY_FIELD, has_sms=False)  # raises on any broken rule


async def test_a_fresh_install_and_a_new_tenant_offer_no_phone_sign_in(
    services: Services,
) -> None:
    await services.tenants.create("acme", "Acme", TenantKind.PRODUCTION)
    for tenant_id in ("default", "acme"):
        document = await services.sign_in_experience.current(tenant_id)
        assert document == default_sign_in_experience(has_sms=False)
        assert not offers_phone(document)
        problem = await services.sign_in_experience.sms_setup_problem(tenant_id)
        assert problem == SmsSetupProblem(on_default=True)


async def test_the_first_connector_switches_phone_sign_in_on_and_losing_it_off(
    services: Services,
) -> None:
    experiences = services.sign_in_experience
    connector_id = await add_outbox(services)
    assert await experiences.current("default") == default_sign_in_experience(has_sms=True)
    assert await experiences.sms_setup_problem("default") is None
    await delete_connector(services.connectors, experiences, "default", connector_id)
    assert await experiences.current("default") == default_sign_in_experience(has_sms=False)
    assert await experiences.sms_setup_problem("default") == SmsSetupProblem(on_default=True)


async def test_a_saved_document_stays_and_names_what_needs_the_lost_connector(
    services: Services,
) -> None:
    experiences = services.sign_in_experience
    connector_id = await add_outbox(services)
    await experiences.update("default", {"sign_in_mode": SignInMode.SIGN_IN}, services.connectors)
    await delete_connector(services.connectors, experiences, "default", connector_id)
    document = await experiences.current("default")
    assert document.phone_code_sign_in()  # the admin's choice is kept, not rewritten
    problem = await experiences.sms_setup_problem("default")
    assert problem == SmsSetupProblem(
        on_default=False, features=("sign-up with a phone number", "sign-in with a code by SMS")
    )
    await add_outbox(services)
    assert await experiences.sms_setup_problem("default") is None


async def test_a_document_saved_before_any_connector_offers_nothing_and_says_so(
    services: Services,
) -> None:
    experiences = services.sign_in_experience
    await experiences.update("default", {"sign_in_mode": SignInMode.SIGN_IN}, services.connectors)
    problem = await experiences.sms_setup_problem("default")
    assert problem == SmsSetupProblem(on_default=False, features=())
    await add_outbox(services)
    # Saved means chosen: the connector does not switch phone sign-in on behind the admin's back.
    assert not offers_phone(await experiences.current("default"))
    assert await experiences.sms_setup_problem("default") is None


async def test_a_connector_whose_provider_is_not_installed_is_not_usable(
    services: Services,
) -> None:
    experiences = services.sign_in_experience
    await add_outbox(services)
    await experiences.update("default", {"sign_in_mode": SignInMode.SIGN_IN}, services.connectors)
    encrypted = services.cipher.encrypt({})
    await services.connectors.store.replace(
        "default", "Sms", "uninstalled-sms", encrypted, now=services.connectors.clock()
    )
    problem = await experiences.sms_setup_problem("default")
    assert problem is not None
    assert "sign-in with a code by SMS" in problem.features


@pytest.mark.parametrize(
    ("document", "features"),
    [
        (
            {"forgotPasswordMethods": ["PhoneVerificationCode"]},
            ("sign-up with a phone number", "sign-in with a code by SMS", "password reset by SMS"),
        ),
        (
            {
                "signUp": {"identifiers": ["username"], "password": True, "verify": False},
                "signIn": {
                    "methods": [
                        {"identifier": "username", "password": True},
                        {"identifier": "phone", "password": True},
                    ]
                },
                "mfa": {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
            },
            ("password reset by SMS", "two-step verification by SMS"),
        ),
        (
            {
                "signUp": {"identifiers": ["username"], "password": True, "verify": False},
                "signIn": {"methods": [{"identifier": "username", "password": True}]},
                "forgotPasswordMethods": [],
            },
            (),
        ),
    ],
)
def test_sms_features_are_named_in_an_admins_words(
    document: dict[str, object], features: tuple[str, ...]
) -> None:
    base = default_sign_in_experience(has_sms=True).model_dump(by_alias=True)
    assert SignInExperience.model_validate(base | document).sms_features() == features
