"""The whole sign-in experience document (logto-parity §6.1) and the password check (§6.3),
over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from tests import local_http
from tests.servers import serve_in_thread
from tests.web.parity.conftest import BREACHED

from phoneauth.storage.models import SignInExperienceRow
from phoneauth.web.app import create_app
from phoneauth.wiring import Services

LOGTO_KEYS = {
    "tenantId", "id", "color", "branding", "hideLogtoBranding", "languageInfo",
    "termsOfUseUrl", "privacyPolicyUrl", "supportEmail", "supportWebsiteUrl",
    "unknownSessionRedirectUrl", "agreeToTermsPolicy", "signIn", "signUp", "socialSignIn",
    "socialSignInConnectorTargets", "signInMode", "customCss", "customContent",
    "customUiAssets", "customUiCsp", "passwordPolicy", "mfa", "adaptiveMfa",
    "singleSignOnEnabled", "captchaPolicy", "sentinelPolicy", "emailBlocklistPolicy",
    "passkeySignIn", "verificationCodePolicy", "forgotPasswordMethods", "signUpProfileFields",
    "passwordExpiration", "usernamePolicy",
}  # fmt: skip
"""logto-parity §6.1, without `trustedDevice` (Logto hides it unless dev features are on)."""

CHECK = "/api/sign-in-exp/default/check-password"


def test_get_carries_every_key_of_logtos_document(admin: httpx.Client) -> None:
    document = admin.get("/api/sign-in-exp").json()
    assert set(document) == LOGTO_KEYS
    assert document["color"]["primaryColor"] == "#6139F6"
    assert document["languageInfo"] == {"autoDetect": True, "fallbackLanguage": "en"}
    assert document["agreeToTermsPolicy"] == "Automatic"
    assert document["adaptiveMfa"] == {}
    assert document["passwordPolicy"]["length"] == {"min": 8, "max": 256}
    assert document["usernamePolicy"]["maxLength"] == 128


async def test_a_document_stored_before_the_new_keys_reads_with_defaults(
    services: Services, admin_key: str, settings: object
) -> None:
    old = {"signUp": {"identifiers": [], "password": False, "verify": True}, "signIn": {}}
    row = SignInExperienceRow(tenant_id="default", document=old, updated_at=datetime.now(UTC))
    await services.database.write(lambda session: session.add(row))
    with serve_in_thread(create_app(services.settings)) as url:
        headers = {"Authorization": f"Bearer {admin_key}"}
        async with local_http.async_client(headers=headers, timeout=60) as client:
            document = (await client.get(f"{url}/api/sign-in-exp")).json()
    assert set(document) == LOGTO_KEYS
    assert document["signInMode"] == "SignInAndRegister"
    assert document["customContent"] == {}


def test_patch_answers_the_whole_document_and_keeps_adaptive_mfa(admin: httpx.Client) -> None:
    changed = admin.patch(
        "/api/sign-in-exp",
        json={
            "adaptiveMfa": {"enabled": False},
            "color": {"primaryColor": "#112233", "isDarkModeEnabled": True,
                      "darkPrimaryColor": "#445566"},
            "termsOfUseUrl": "https://example.com/terms",
            "supportEmail": "",
            "mfa": {"factors": ["Totp", "BackupCode"], "policy": "PromptAtSignInAndSignUp"},
            "socialSignInConnectorTargets": ["github"],
            "someKeyLogtoDoesNotKnow": 1,
        },
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert set(body) == LOGTO_KEYS
    assert body["adaptiveMfa"] == {"enabled": False}
    assert body["color"]["primaryColor"] == "#112233"
    assert body["termsOfUseUrl"] == "https://example.com/terms"
    assert body["socialSignInConnectorTargets"] == []  # no such social connector
    assert body["mfa"]["factors"] == ["Totp", "BackupCode"]
    again = admin.get("/api/sign-in-exp").json()
    assert again["adaptiveMfa"] == {"enabled": False}
    assert again["supportEmail"] == ""


def test_patch_refuses_what_logto_refuses(admin: httpx.Client) -> None:
    cases = [
        ({"mfa": {"factors": ["BackupCode"], "policy": "UserControlled"}}, 400,
         "sign_in_experiences.backup_code_cannot_be_enabled_alone"),
        ({"termsOfUseUrl": "not a url"}, 400, "guard.invalid_input"),
        ({"color": None}, 400, "guard.invalid_input"),
        ({"usernamePolicy": {"minLength": 5, "maxLength": 2}}, 400, "guard.invalid_input"),
        ({"passwordPolicy": {"characterTypes": {"min": 5}}}, 400, "guard.invalid_input"),
    ]  # fmt: skip
    for body, status, code in cases:
        answer = admin.patch("/api/sign-in-exp", json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body


def test_check_password_needs_user_info_while_that_rule_is_on(admin: httpx.Client) -> None:
    answer = admin.post(CHECK, json={"password": "whatever-it-is"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "request.invalid_input"
    assert answer.json()["details"]["message"] == (
        "User information data is required to check user information."
    )
    unknown = admin.post(CHECK, json={"password": "x", "userId": "nobody"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "user.user_not_exist")


def test_check_password_answers_logtos_issues(admin: httpx.Client) -> None:
    policy = {"rejects": {"userInfo": False, "words": ["phoneauth"]}}
    assert admin.patch("/api/sign-in-exp", json={"passwordPolicy": policy}).status_code == 200
    good = admin.post(CHECK, json={"password": "Str0ng-Passphrase!"})
    assert (good.status_code, good.json()) == (200, {"result": True})
    short = admin.post(CHECK, json={"password": "Ab1!"})
    assert short.status_code == 400
    assert short.json() == {
        "result": False,
        "issues": [{"code": "password_rejected.too_short", "interpolation": {"min": 8}}],
    }
    breached = admin.post(CHECK, json={"password": BREACHED}).json()
    assert breached["issues"] == [{"code": "password_rejected.pwned"}]
    odd = admin.post(CHECK, json={"password": "pässwörd-long"}).json()
    assert {"code": "password_rejected.unsupported_characters"} in odd["issues"]
    repeated = admin.post(CHECK, json={"password": "aaaaaaaaaa"}).json()
    assert {"code": "password_rejected.restricted.repetition"} in repeated["issues"]
    sequence = admin.post(CHECK, json={"password": "abcdefgh12"}).json()
    assert {"code": "password_rejected.restricted.sequence"} in sequence["issues"]
    word = admin.post(CHECK, json={"password": "PhoneAuth1"}).json()
    assert {"code": "password_rejected.restricted.words"} in word["issues"]
    strict = {"characterTypes": {"min": 3}, "rejects": {"userInfo": False, "pwned": False}}
    admin.patch("/api/sign-in-exp", json={"passwordPolicy": strict})
    kinds = admin.post(CHECK, json={"password": "onlylowercase"}).json()
    assert kinds["issues"] == [
        {"code": "password_rejected.character_types", "interpolation": {"min": 3}}
    ]


def test_adaptive_mfa_follows_logtos_rules(admin: httpx.Client) -> None:
    totp = {"factors": ["Totp", "BackupCode"], "policy": "PromptOnlyAtSignInMandatory"}
    cases = [
        ({"adaptiveMfa": {"enabled": True}, "mfa": {"factors": [], "policy": "UserControlled"}},
         "sign_in_experiences.adaptive_mfa_requires_mfa"),
        ({"adaptiveMfa": {"enabled": True}, "mfa": {**totp, "policy": "Mandatory"}},
         "sign_in_experiences.adaptive_mfa_requires_non_skippable_policy"),
        ({"adaptiveMfa": {"enabled": False}, "mfa": totp},
         "sign_in_experiences.non_adaptive_mfa_requires_skippable_policy"),
    ]  # fmt: skip
    for body, code in cases:
        answer = admin.patch("/api/sign-in-exp", json=body)
        assert (answer.status_code, answer.json()["code"]) == (422, code), body
    on = admin.patch("/api/sign-in-exp", json={"adaptiveMfa": {"enabled": True}, "mfa": totp})
    assert on.status_code == 200, on.text
    assert on.json()["adaptiveMfa"] == {"enabled": True}
    # MFA switched off without a word on adaptive MFA switches adaptive MFA off, as in Logto.
    off = admin.patch("/api/sign-in-exp", json={"mfa": {"factors": [], "policy": "NoPrompt"}})
    assert off.json()["adaptiveMfa"] == {"enabled": False}
