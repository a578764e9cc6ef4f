"""GET|PATCH /api/sign-in-exp and the public /api/.well-known/sign-in-exp, as Logto answers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from phoneauth.domain.sign_in_experience_fields import DocumentFields

PHONE_CODE = {
    "identifier": "phone",
    "password": False,
    "verificationCode": True,
    "isPasswordPrimary": False,
}
PHONE_PASSWORD = {
    "identifier": "phone",
    "password": True,
    "verificationCode": False,
    "isPasswordPrimary": True,
}
PHONE_BOTH = {**PHONE_CODE, "password": True}
USERNAME_PASSWORD = {
    "identifier": "username",
    "password": True,
    "verificationCode": False,
    "isPasswordPrimary": True,
}
PHONE_SIGN_UP = {"identifiers": ["phone"], "password": False, "verify": True}
PHONE_PASSWORD_SIGN_UP = {"identifiers": ["phone"], "password": True, "verify": True}
USERNAME_SIGN_UP = {"identifiers": ["username"], "password": True, "verify": False}
LOGTO_DEFAULTS = DocumentFields().model_dump(mode="json", by_alias=True)
"""Logto's other keys (branding, policies...), at their defaults in every document below."""
DEFAULT = {
    **LOGTO_DEFAULTS,
    "id": "default",
    "tenantId": "default",
    "signUp": {**PHONE_SIGN_UP, "secondaryIdentifiers": []},
    "signIn": {"methods": [PHONE_CODE]},
    "signInMode": "SignInAndRegister",
    "forgotPasswordMethods": None,
    "mfa": {"factors": [], "policy": "UserControlled", "organizationRequiredMfaPolicy": None},
    "verificationCodePolicy": {
        "expirationDuration": 600,
        "maxRetryAttempts": 10,
        "resendKeepsCode": True,
        "resendCooldownSeconds": 60,
    },
}
"""A tenant's default once it has an SMS connector."""
WAITING = {
    **DEFAULT,
    "signUp": {"identifiers": [], "password": False, "verify": True, "secondaryIdentifiers": []},
    "signIn": {"methods": []},
}
"""A tenant's default before it has an SMS connector: nothing that needs one."""


def public_client(app: FastAPI) -> httpx.AsyncClient:
    """No Authorization header: what a sign-in page or an app has."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://phoneauth.test"
    )


async def add_sms_connector(api: httpx.AsyncClient, base: str = "/api") -> str:
    created = await api.post(f"{base}/connectors", json={"connectorId": "outbox-sms"})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def patch(api: httpx.AsyncClient, body: dict[str, Any], base: str = "/api") -> httpx.Response:
    return await api.patch(f"{base}/sign-in-exp", json=body)


def refused(response: httpx.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    details: dict[str, Any] = body["details"]
    return details


async def test_the_default_document_follows_the_sms_connector_until_the_first_save(
    api: httpx.AsyncClient,
) -> None:
    for path in ("/api/sign-in-exp", "/t/default/api/sign-in-exp"):
        response = await api.get(path)
        assert response.status_code == 200
        assert response.json() == WAITING
    connector_id = await add_sms_connector(api)
    assert (await api.get("/api/sign-in-exp")).json() == DEFAULT
    # Phone sign-in depends on the connector now: the opt-in guard refuses, a delete deletes.
    guarded = await api.delete(f"/api/connectors/{connector_id}?ifUnused=true")
    assert guarded.status_code == 409
    assert guarded.json()["code"] == "connector.in_use_by_sign_in_experience"
    assert (await api.delete(f"/api/connectors/{connector_id}")).status_code == 204
    assert (await api.get("/api/sign-in-exp")).json() == WAITING

    # Once saved, the document is the admin's and no longer follows the connector.
    connector_id = await add_sms_connector(api)
    saved = await patch(api, {"signInMode": "SignIn"})
    assert saved.json() == {**DEFAULT, "signInMode": "SignIn"}
    assert (await api.delete(f"/api/connectors/{connector_id}?force=true")).status_code == 204
    # What the admin saved stays; the console warns that it cannot work (test_console_pages).
    assert (await api.get("/api/sign-in-exp")).json() == {**DEFAULT, "signInMode": "SignIn"}


async def test_the_default_without_a_connector_is_a_state_patch_accepts(
    api: httpx.AsyncClient,
) -> None:
    """The fresh document is one Logto's rules save: sent back as read, it is accepted as is
    (the phone default without a connector was refused with `enabled_connector_not_found`)."""
    fresh = (await api.get("/api/sign-in-exp")).json()
    keys = ("signUp", "signIn", "signInMode", "mfa", "forgotPasswordMethods")
    saved = await patch(api, {key: fresh[key] for key in keys})
    assert saved.status_code == 200, saved.text
    # Logto: `mfa` sent without factors and without `adaptiveMfa` switches adaptive MFA off.
    assert saved.json() == {**fresh, "adaptiveMfa": {"enabled": False}}


async def test_a_new_tenant_starts_without_phone_sign_in_until_its_own_connector(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    assert created.status_code == 201, created.text
    await add_sms_connector(api)  # the default tenant's connector is not acme's
    acme = (await api.get("/t/acme/api/sign-in-exp")).json()
    assert acme == {**WAITING, "tenantId": "acme"}
    await add_sms_connector(api, "/t/acme/api")
    acme = (await api.get("/t/acme/api/sign-in-exp")).json()
    assert acme == {**DEFAULT, "tenantId": "acme"}


async def test_the_management_routes_need_an_admin_key(app: FastAPI) -> None:
    async with public_client(app) as client:
        assert (await client.get("/api/sign-in-exp")).status_code == 401
        assert (await client.patch("/api/sign-in-exp", json={})).status_code == 401


async def test_patch_replaces_the_given_top_level_keys_and_keeps_the_rest(
    api: httpx.AsyncClient,
) -> None:
    await add_sms_connector(api)
    body = {
        "signUp": PHONE_PASSWORD_SIGN_UP,
        "signIn": {"methods": [PHONE_BOTH]},
        # Every key of Logto's document is kept; `id` and `tenantId` are not the body's to set.
        "color": {"primaryColor": "#000000"},
        "id": "other",
        "tenantId": "other",
    }
    response = await patch(api, body)
    assert response.status_code == 200, response.text
    expected = {
        **DEFAULT,
        "signUp": {**PHONE_PASSWORD_SIGN_UP, "secondaryIdentifiers": []},
        "signIn": {"methods": [PHONE_BOTH]},
        "color": {**LOGTO_DEFAULTS["color"], "primaryColor": "#000000"},
    }
    assert response.json() == expected
    assert (await api.get("/api/sign-in-exp")).json() == expected
    mode = await patch(api, {"signInMode": "SignIn"})
    assert mode.json() == {**expected, "signInMode": "SignIn"}
    assert (await patch(api, {})).json() == {**expected, "signInMode": "SignIn"}


async def test_phone_sign_up_and_code_sign_in_need_an_active_sms_connector(
    api: httpx.AsyncClient,
) -> None:
    details = refused(
        await patch(api, {"signUp": PHONE_SIGN_UP}),
        "sign_in_experiences.enabled_connector_not_found",
    )
    assert details["type"] == "Sms"
    details = refused(
        await patch(api, {"signIn": {"methods": [PHONE_CODE]}}),
        "sign_in_experiences.enabled_connector_not_found",
    )
    assert details["type"] == "Sms"
    assert (await api.get("/api/sign-in-exp")).json() == WAITING  # nothing was saved
    await add_sms_connector(api)
    assert (await patch(api, {"signUp": PHONE_SIGN_UP})).status_code == 200


async def test_email_sign_up_and_code_sign_in_are_refused_for_want_of_an_email_connector(
    api: httpx.AsyncClient,
) -> None:
    await add_sms_connector(api)
    email_code = {**PHONE_CODE, "identifier": "email"}
    email_sign_up = {"identifiers": ["email"], "password": False, "verify": True}
    for body in (
        {"signUp": email_sign_up, "signIn": {"methods": [email_code]}},
        {"signIn": {"methods": [PHONE_CODE, email_code]}},
    ):
        details = refused(await patch(api, body), "sign_in_experiences.enabled_connector_not_found")
        assert details["type"] == "Email"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"signUp": {"identifiers": ["phone"], "password": True, "verify": False}},
            "sign_in_experiences.passwordless_requires_verify",
        ),
        (
            {
                "signUp": {
                    "identifiers": [],
                    "password": False,
                    "verify": True,
                    "secondaryIdentifiers": [{"identifier": "phone", "verify": True}],
                }
            },
            "sign_in_experiences.missing_sign_up_identifiers",
        ),
        (
            {
                "signUp": {
                    **PHONE_SIGN_UP,
                    "secondaryIdentifiers": [{"identifier": "emailOrPhone", "verify": True}],
                }
            },
            "sign_in_experiences.duplicated_sign_up_identifiers",
        ),
        (
            {"signUp": PHONE_PASSWORD_SIGN_UP, "signIn": {"methods": [USERNAME_PASSWORD]}},
            "sign_in_experiences.miss_sign_up_identifier_in_sign_in",
        ),
        (
            {"signIn": {"methods": [PHONE_CODE, {**USERNAME_PASSWORD, "password": False}]}},
            "sign_in_experiences.at_least_one_authentication_factor",
        ),
        (
            {"signIn": {"methods": [PHONE_PASSWORD]}},
            "sign_in_experiences.code_sign_in_must_be_enabled",
        ),
        (
            {"mfa": {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"}},
            "sign_in_experiences.phone_verification_code_cannot_be_used_for_mfa",
        ),
        (
            {"mfa": {"factors": ["Totp", "Totp"], "policy": "Mandatory"}},
            "sign_in_experiences.duplicated_mfa_factors",
        ),
        (
            {"mfa": {"factors": ["BackupCode"], "policy": "Mandatory"}},
            "sign_in_experiences.backup_code_cannot_be_enabled_alone",
        ),
        (
            {"forgotPasswordMethods": ["EmailVerificationCode"]},
            "sign_in_experiences.forgot_password_method_requires_connector",
        ),
    ],
)
async def test_each_rule_answers_logtos_code_and_saves_nothing(
    api: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    await add_sms_connector(api)
    refused(await patch(api, body), code)
    assert (await api.get("/api/sign-in-exp")).json() == DEFAULT


async def test_phone_code_sign_in_is_refused_while_phone_code_is_an_mfa_factor(
    api: httpx.AsyncClient,
) -> None:
    await add_sms_connector(api)
    mfa = {"factors": ["PhoneVerificationCode"], "policy": "Mandatory"}
    saved = await patch(
        api,
        {"signUp": PHONE_PASSWORD_SIGN_UP, "signIn": {"methods": [PHONE_PASSWORD]}, "mfa": mfa},
    )
    assert saved.status_code == 200, saved.text
    refused(
        await patch(api, {"signIn": {"methods": [PHONE_BOTH]}}),
        "sign_in_experiences.phone_verification_code_cannot_be_used_for_sign_in",
    )


async def test_forgot_password_by_sms_needs_the_connector(api: httpx.AsyncClient) -> None:
    body = {"forgotPasswordMethods": ["PhoneVerificationCode"]}
    details = refused(
        await patch(api, body), "sign_in_experiences.forgot_password_method_requires_connector"
    )
    assert details == {"method": "sms"}
    await add_sms_connector(api)
    saved = await patch(api, body)
    assert saved.json()["forgotPasswordMethods"] == ["PhoneVerificationCode"]


async def test_verification_code_policy_is_kept_in_the_tenant_settings(
    api: httpx.AsyncClient,
) -> None:
    policy = {
        "expirationDuration": 300,
        "maxRetryAttempts": 3,
        "resendKeepsCode": False,
        "resendCooldownSeconds": 30,
    }
    saved = await patch(api, {"verificationCodePolicy": policy})
    assert saved.status_code == 200, saved.text
    assert saved.json() == {**WAITING, "verificationCodePolicy": policy}
    assert (await api.get("/api/sign-in-exp")).json()["verificationCodePolicy"] == policy
    settings = (await api.get("/api/tenant")).json()["settings"]
    assert settings["verificationCodePolicy"] == policy
    # Every field is optional: a missing one takes its default; null restores them all.
    partial = await patch(api, {"verificationCodePolicy": {"maxRetryAttempts": 5}})
    expected = {**DEFAULT["verificationCodePolicy"], "maxRetryAttempts": 5}
    assert partial.json()["verificationCodePolicy"] == expected
    reset = await patch(api, {"verificationCodePolicy": None})
    assert reset.json()["verificationCodePolicy"] == DEFAULT["verificationCodePolicy"]


async def test_the_code_policy_is_not_saved_when_a_rule_refuses_the_document(
    api: httpx.AsyncClient,
) -> None:
    body = {"signUp": PHONE_SIGN_UP, "verificationCodePolicy": {"maxRetryAttempts": 3}}
    refused(await patch(api, body), "sign_in_experiences.enabled_connector_not_found")
    assert (await api.get("/api/sign-in-exp")).json() == WAITING


@pytest.mark.parametrize(
    "body",
    [
        {"signUp": None},
        {"signIn": None},
        {"mfa": None},
        {"signInMode": None},
        {"signInMode": "Sometimes"},
        {"signUp": {"identifiers": ["fax"]}},
        {"signUp": {**PHONE_SIGN_UP, "secondaryIdentifiers": [{"identifier": "fax"}]}},
        {"signUp": {**PHONE_SIGN_UP, "typo": True}},
        {"signIn": {"methods": [{**PHONE_CODE, "identifier": "emailOrPhone"}]}},
        {"mfa": {"factors": ["Carrier pigeon"], "policy": "Mandatory"}},
        {"forgotPasswordMethods": ["Telegram"]},
        {"verificationCodePolicy": {"expirationDuration": 59}},
        {"verificationCodePolicy": {"maxRetryAttempts": 101}},
        [],
    ],
)
async def test_malformed_bodies_are_400_guard_invalid_input(
    api: httpx.AsyncClient, body: object
) -> None:
    response = await api.patch("/api/sign-in-exp", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "guard.invalid_input"
    assert (await api.get("/api/sign-in-exp")).json() == WAITING


async def test_each_tenant_has_its_own_document(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})
    assert created.status_code == 201
    await add_sms_connector(api)  # the default tenant's connector is not acme's
    body = {"signUp": USERNAME_SIGN_UP, "signIn": {"methods": [USERNAME_PASSWORD]}}
    assert (await patch(api, body, "/t/acme/api")).status_code == 200
    refused(
        await patch(api, {"signIn": {"methods": [PHONE_CODE]}}, "/t/acme/api"),
        "sign_in_experiences.enabled_connector_not_found",
    )
    assert (await api.get("/api/sign-in-exp")).json() == DEFAULT
    acme = (await api.get("/t/acme/api/sign-in-exp")).json()
    assert (acme["tenantId"], acme["signUp"]["identifiers"]) == ("acme", ["username"])


# --- the public document ----------------------------------------------------------------------


async def test_the_public_document_needs_no_key_and_tells_forgot_password_availability(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    async with public_client(app) as client:
        before = await client.get("/api/.well-known/sign-in-exp")
        assert before.status_code == 200
        assert before.json() == {
            **WAITING,
            "forgotPassword": {"phone": False, "email": False},
            "isDevelopmentTenant": True,
        }
        await add_sms_connector(api)
        after = (await client.get("/api/.well-known/sign-in-exp")).json()
        assert after["forgotPassword"] == {"phone": True, "email": False}
        saved = await patch(api, {"forgotPasswordMethods": []})
        assert saved.status_code == 200
        closed = (await client.get("/t/default/api/.well-known/sign-in-exp")).json()
        assert closed["forgotPassword"] == {"phone": False, "email": False}
        assert closed["forgotPasswordMethods"] == []


async def test_the_public_document_is_per_tenant_and_shows_no_secret(
    app: FastAPI, api: httpx.AsyncClient
) -> None:
    created = await api.post(
        "/api/tenants", json={"id": "live", "name": "Live", "kind": "production"}
    )
    assert created.status_code == 201
    twilio = {
        "connectorId": "twilio-short-message-service",
        "config": {
            "accountSID": "AC" + "0" * 32,
            "authToken": "secret-auth-token",
            "fromMessagingServiceSID": "+15005550006",
            "templates": [{"usageType": "Generic", "content": "Code {{code}}"}],
        },
    }
    connector = await api.post("/t/live/api/connectors", json=twilio)
    assert connector.status_code == 200, connector.text
    tests = {"testPhoneNumbers": [{"phone": "+4915112345678", "code": "424242"}]}
    assert (await api.patch("/t/live/api/tenant/settings", json=tests)).status_code == 200
    async with public_client(app) as client:
        live = await client.get("/t/live/api/.well-known/sign-in-exp")
        assert live.status_code == 200
        assert live.json()["isDevelopmentTenant"] is False
        assert live.json()["tenantId"] == "live"
        assert live.json()["forgotPassword"] == {"phone": True, "email": False}
        for secret in ("secret-auth-token", "AC000", "424242", "testPhoneNumbers", "config"):
            assert secret not in live.text
        missing = await client.get("/t/nowhere/api/.well-known/sign-in-exp")
        assert missing.status_code == 404
        assert missing.json()["code"] == "tenant.not_found"


async def test_the_openapi_document_lists_every_code(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    def codes(path: str, method: str) -> str:
        responses = paths[path][method]["responses"]
        return " ".join(r.get("description", "") for r in responses.values())

    patch_codes = codes("/api/sign-in-exp", "patch")
    for code in (
        "enabled_connector_not_found",
        "passwordless_requires_verify",
        "missing_sign_up_identifiers",
        "duplicated_sign_up_identifiers",
        "miss_sign_up_identifier_in_sign_in",
        "at_least_one_authentication_factor",
        "code_sign_in_must_be_enabled",
        "email_verification_code_cannot_be_used_for_sign_in",
        "email_verification_code_cannot_be_used_for_mfa",
        "phone_verification_code_cannot_be_used_for_sign_in",
        "phone_verification_code_cannot_be_used_for_mfa",
        "forgot_password_method_requires_connector",
        "duplicated_mfa_factors",
        "backup_code_cannot_be_enabled_alone",
    ):
        assert f"`sign_in_experiences.{code}`" in patch_codes
    assert "connector.in_use_by_sign_in_experience" in codes(
        "/api/connectors/{connector_id}", "delete"
    )
    assert "tenant.not_found" in codes("/t/{tenant_id}/api/.well-known/sign-in-exp", "get")
    assert "user.user_not_exist" in codes("/api/users/{user_id}", "delete")
    assert "phone_number.invalid" in codes("/api/users", "get")
