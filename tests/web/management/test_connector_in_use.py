"""DELETE /api/connectors/{id}?ifUnused=true is refused while the sign-in experience needs the
SMS connector.

Logto's delete deletes (its console only warns), and so does phoneauth's by default; the guard is
the opt-in `?ifUnused=true`: 409 with the list of dependent settings.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.web.management.test_sign_in_experience import (
    PHONE_BOTH,
    PHONE_PASSWORD,
    PHONE_PASSWORD_SIGN_UP,
    USERNAME_PASSWORD,
    USERNAME_SIGN_UP,
    add_sms_connector,
    patch,
)

from phoneauth.wiring import Services

IN_USE = "connector.in_use_by_sign_in_experience"


async def delete(api: httpx.AsyncClient, connector_id: str, **params: str) -> httpx.Response:
    """The guarded delete, unless `params` say otherwise."""
    return await api.delete(f"/api/connectors/{connector_id}", params={"ifUnused": "true"} | params)


async def test_the_default_phone_sign_in_experience_keeps_its_connector(
    api: httpx.AsyncClient, services: Services
) -> None:
    connector_id = await add_sms_connector(api)
    refused = await delete(api, connector_id)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == IN_USE
    assert body["details"]["dependents"] == [
        "signUp.identifiers: phone",
        "signIn.methods: phone + verification code",
    ]
    assert body["details"]["type"] == "Sms"
    assert "ifUnused=true" in body["message"]
    assert (await api.get(f"/api/connectors/{connector_id}")).status_code == 200
    assert await services.connectors.active_sms_connector("default") is not None
    assert (await delete(api, connector_id, force="false")).status_code == 409


async def test_force_still_deletes_and_leaves_the_document_as_logto_does(
    api: httpx.AsyncClient, services: Services
) -> None:
    connector_id = await add_sms_connector(api)
    # Saved, the document is the admin's: it no longer follows the connector as the default does.
    assert (await patch(api, {"signInMode": "SignInAndRegister"})).status_code == 200
    forced = await delete(api, connector_id, force="true")
    assert forced.status_code == 204
    assert await services.connectors.active_sms_connector("default") is None
    assert (await api.get("/api/sign-in-exp")).json()["signUp"]["identifiers"] == ["phone"]
    # Unrelated keys still save; phone settings are refused until a connector is back.
    assert (await patch(api, {"signInMode": "SignIn"})).status_code == 200
    again = await patch(api, {"signUp": PHONE_PASSWORD_SIGN_UP})
    assert again.status_code == 400
    assert again.json()["code"] == "sign_in_experiences.enabled_connector_not_found"


async def test_a_connector_nothing_depends_on_deletes_without_force(
    api: httpx.AsyncClient,
) -> None:
    connector_id = await add_sms_connector(api)
    body = {"signUp": USERNAME_SIGN_UP, "signIn": {"methods": [USERNAME_PASSWORD]}}
    assert (await patch(api, body)).status_code == 200
    assert (await delete(api, connector_id)).status_code == 204


@pytest.mark.parametrize(
    ("body", "dependents"),
    [
        (
            {
                "signUp": USERNAME_SIGN_UP,
                "signIn": {"methods": [USERNAME_PASSWORD]},
                "mfa": {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"},
            },
            ["mfa.factors: PhoneVerificationCode"],
        ),
        (
            {
                "signUp": {
                    **USERNAME_SIGN_UP,
                    "verify": True,
                    "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
                },
                "signIn": {"methods": [USERNAME_PASSWORD, PHONE_PASSWORD]},
            },
            [
                "signUp.secondaryIdentifiers: phone",
                "signIn.methods: phone + password (forgot password by SMS)",
            ],
        ),
        (
            {
                "signUp": USERNAME_SIGN_UP,
                "signIn": {"methods": [USERNAME_PASSWORD]},
                "forgotPasswordMethods": ["PhoneVerificationCode"],
            },
            ["forgotPasswordMethods: PhoneVerificationCode"],
        ),
        (
            {"signUp": PHONE_PASSWORD_SIGN_UP, "signIn": {"methods": [PHONE_BOTH]}},
            [
                "signUp.identifiers: phone",
                "signIn.methods: phone + verification code",
                "signIn.methods: phone + password (forgot password by SMS)",
            ],
        ),
    ],
)
async def test_every_dependent_setting_is_named(
    api: httpx.AsyncClient, body: dict[str, Any], dependents: list[str]
) -> None:
    connector_id = await add_sms_connector(api)
    saved = await patch(api, body)
    assert saved.status_code == 200, saved.text
    refused = await delete(api, connector_id)
    assert refused.status_code == 409
    assert refused.json()["details"]["dependents"] == dependents


async def test_a_missing_connector_is_404_not_409(api: httpx.AsyncClient) -> None:
    await add_sms_connector(api)
    missing = await delete(api, "nope")
    assert missing.status_code == 404
    assert missing.json()["code"] == "connector.not_found"


async def test_another_tenants_document_does_not_hold_this_connector(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})).is_success
    body = {"signUp": USERNAME_SIGN_UP, "signIn": {"methods": [USERNAME_PASSWORD]}}
    assert (await patch(api, body, "/t/acme/api")).status_code == 200
    acme_connector = await add_sms_connector(api, "/t/acme/api")
    default_connector = await add_sms_connector(api)
    assert (await delete(api, default_connector)).status_code == 409
    deleted = await api.delete(f"/t/acme/api/connectors/{acme_connector}?ifUnused=true")
    assert deleted.status_code == 204
