"""Registering with a password through new-password-identity (logto-parity §3.3, §3.4) and the
account center (§5.1, §5.2), over real HTTP."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from tests import local_http

NPI = "/api/experience/verification/new-password-identity"
PASSWORD = "Str0ng-Passphrase!"
PHONE = "+4915112345678"

USERNAME_SIGN_UP = {
    "signUp": {"identifiers": ["username"], "password": True, "verify": False},
    "signIn": {
        "methods": [
            {"identifier": "username", "password": True, "verificationCode": False,
             "isPasswordPrimary": True}
        ]
    },
}  # fmt: skip
PHONE_SIGN_UP = {
    "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
    "signIn": {
        "methods": [
            {"identifier": "phone", "password": True, "verificationCode": True,
             "isPasswordPrimary": True}
        ]
    },
}  # fmt: skip


def identity(kind: str, value: str, password: str = PASSWORD) -> dict[str, Any]:
    return {"identifier": {"type": kind, "value": value}, "password": password}


def start(end_user: httpx.Client, event: str = "Register") -> None:
    assert end_user.put("/api/experience", json={"interactionEvent": event}).status_code == 204


def code_of(admin: httpx.Client, phone: str) -> str:
    messages = admin.get("/api/outbox", params={"phone": phone}).json()
    return str(messages[0]["code"])


def use_outbox(admin: httpx.Client) -> None:
    created = admin.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    assert created.status_code == 200, created.text


def register_by_phone(admin: httpx.Client, end_user: httpx.Client) -> str:
    """Phone + password registration; the access token of the new user."""
    use_outbox(admin)
    assert admin.patch("/api/sign-in-exp", json=PHONE_SIGN_UP).status_code == 200
    start(end_user)
    by_password = end_user.post(NPI, json=identity("phone", PHONE))
    assert by_password.status_code == 200, by_password.text
    password_id = by_password.json()["verificationId"]
    unproven = end_user.post("/api/experience/identification", json={"verificationId": password_id})
    assert (unproven.status_code, unproven.json()["code"]) == (400, "session.verification_failed")
    sent = end_user.post(
        "/api/experience/verification/verification-code",
        json={"identifier": {"type": "phone", "value": PHONE}, "interactionEvent": "Register"},
    )
    assert sent.status_code == 200, sent.text
    verified = end_user.post(
        "/api/experience/verification/verification-code/verify",
        json={
            "identifier": {"type": "phone", "value": PHONE},
            "verificationId": sent.json()["verificationId"],
            "code": code_of(admin, PHONE),
        },
    )
    assert verified.status_code == 200, verified.text
    created = end_user.post("/api/experience/identification", json={"verificationId": password_id})
    assert created.status_code == 201, created.text
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    return str(submitted.json()["accessToken"])


def test_register_with_username_and_password(
    admin: httpx.Client, end_user: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert admin.patch("/api/sign-in-exp", json=USERNAME_SIGN_UP).status_code == 200
    start(end_user)
    verified = end_user.post(NPI, json=identity("username", "alice_1"))
    assert verified.status_code == 200, verified.text
    verification_id = verified.json()["verificationId"]
    shown = end_user.get("/api/experience/interaction").json()
    assert "passwordHash" not in str(shown)
    created = end_user.post(
        "/api/experience/identification", json={"verificationId": verification_id}
    )
    assert created.status_code == 201, created.text
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    token = submitted.json()["accessToken"]
    me = end_user.get("/api/my-account", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["username"], me["hasPassword"], me["primaryPhone"]) == ("alice_1", True, None)
    # The name is taken now; the policy and the checks answer Logto's codes.
    start(end_user)
    taken = end_user.post(NPI, json=identity("username", "alice_1"))
    assert (taken.status_code, taken.json()["code"]) == (422, "user.username_already_in_use")
    assert PASSWORD not in caplog.text


def test_new_password_identity_refusals(admin: httpx.Client, end_user: httpx.Client) -> None:
    assert admin.patch("/api/sign-in-exp", json=USERNAME_SIGN_UP).status_code == 200
    start(end_user)
    cases = [
        (identity("email", "a@example.com"), 422, "user.sign_up_method_not_enabled"),
        (identity("email", "not-an-address"), 422, "user.sign_up_method_not_enabled"),
        (identity("phone", "4915112345678"), 422, "user.sign_up_method_not_enabled"),
        (identity("username", "1abc"), 400, "guard.invalid_input"),
        ({"identifier": {"type": "userId", "value": "x"}, "password": PASSWORD}, 400,
         "guard.invalid_input"),
        (identity("username", "bob", "short"), 422, "password.rejected"),
    ]  # fmt: skip
    for body, status, code in cases:
        answer = end_user.post(NPI, json=body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    rejected = end_user.post(NPI, json=identity("username", "bob", "short")).json()
    assert {"code": "password_rejected.too_short", "interpolation": {"min": 8}} in (
        rejected["data"]["issues"]
    )
    # The username policy applies at identification, as in Logto.
    admin.patch("/api/sign-in-exp", json={"usernamePolicy": {"minLength": 5}})
    short = end_user.post(NPI, json=identity("username", "bob")).json()["verificationId"]
    refused = end_user.post("/api/experience/identification", json={"verificationId": short})
    assert (refused.status_code, refused.json()["code"]) == (422, "user.username_too_short")
    # Outside an interaction: Logto's interaction codes.
    with local_http.client(base_url=str(end_user.base_url), timeout=60) as stranger:
        lost = stranger.post(NPI, json=identity("username", "carol"))
    assert (lost.status_code, lost.json()["code"]) == (400, "session.not_found")


def test_register_with_phone_and_password_then_sign_in(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    register_by_phone(admin, end_user)
    start(end_user, "SignIn")
    signed_in = end_user.post(
        "/api/experience/verification/password",
        json={"identifier": {"type": "phone", "value": PHONE}, "password": PASSWORD},
    )
    assert signed_in.status_code == 200, signed_in.text
    start(end_user)
    taken = end_user.post(NPI, json=identity("phone", PHONE))
    assert (taken.status_code, taken.json()["code"]) == (422, "user.phone_already_in_use")


def test_account_center_document(admin: httpx.Client) -> None:
    assert admin.get("/api/account-center").json() == {
        "tenantId": "default",
        "id": "default",
        "enabled": False,
        "fields": {},
        "webauthnRelatedOrigins": [],
        "deleteAccountUrl": None,
        "customCss": None,
        "profileFields": None,
    }
    changed = admin.patch(
        "/api/account-center",
        json={
            "enabled": True,
            "fields": {"phone": "ReadOnly", "customData": "Edit"},
            "webauthnRelatedOrigins": ["https://a.example", "https://a.example"],
            "deleteAccountUrl": "",
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["fields"] == {"phone": "ReadOnly", "customData": "Edit"}
    assert body["webauthnRelatedOrigins"] == ["https://a.example"]
    assert body["deleteAccountUrl"] is None
    assert admin.get("/api/account-center").json() == body
    for bad in ({"fields": {"phone": "Write"}}, {"deleteAccountUrl": "ftp://x"}, {"enabled": None}):
        refused = admin.patch("/api/account-center", json=bad)
        assert (refused.status_code, refused.json()["code"]) == (400, "guard.invalid_input"), bad


def test_account_api_changes_follow_the_account_center(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    token = register_by_phone(admin, end_user)
    me = {"Authorization": f"Bearer {token}"}
    change = {"phone": "4915187654321", "newIdentifierVerificationRecordId": "none"}
    off = end_user.post("/api/my-account/primary-phone", json={"bad": 1}, headers=me)
    assert (off.status_code, off.json()["code"]) == (400, "account_center.not_enabled")
    gone = end_user.delete("/api/my-account/primary-phone", headers=me)
    assert (gone.status_code, gone.json()["code"]) == (400, "account_center.not_enabled")
    admin.patch("/api/account-center", json={"enabled": True, "fields": {"phone": "ReadOnly"}})
    unverified = end_user.post("/api/my-account/primary-phone", json=change, headers=me)
    assert unverified.status_code == 401
    sent = end_user.post(
        "/api/verifications/verification-code",
        json={"identifier": {"type": "phone", "value": PHONE},
              "templateType": "UserPermissionValidation"},
        headers=me,
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    record = sent.json()["verificationRecordId"]
    verified = end_user.post(
        "/api/verifications/verification-code/verify",
        json={"identifier": {"type": "phone", "value": PHONE}, "verificationId": record,
              "code": code_of(admin, PHONE)},
        headers=me,
    )  # fmt: skip
    assert verified.status_code == 200, verified.text
    fresh = {**me, "logto-verification-id": record}
    read_only = end_user.post("/api/my-account/primary-phone", json=change, headers=fresh)
    assert (read_only.status_code, read_only.json()["code"]) == (
        400,
        "account_center.field_not_editable",
    )
    password = {"password": "An0ther-Passphrase!"}
    no_password = end_user.post("/api/my-account/password", json=password, headers=fresh)
    assert (no_password.status_code, no_password.json()["code"]) == (
        400,
        "account_center.field_not_editable",
    )
    admin.patch("/api/account-center", json={"fields": {"phone": "Edit"}})
    past_the_gate = end_user.post("/api/my-account/primary-phone", json=change, headers=fresh)
    assert past_the_gate.json()["code"] == "verification_record.not_found"


def test_register_with_email_and_password_needs_the_address_proven_by_code(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.post("/api/connectors", json={"connectorId": "outbox-email"}).status_code == 200
    email_sign_up = {
        "signUp": {"identifiers": ["email"], "password": True, "verify": True},
        "signIn": {
            "methods": [
                {"identifier": "email", "password": True, "verificationCode": True,
                 "isPasswordPrimary": True}
            ]
        },
        "emailBlocklistPolicy": {"blockSubaddressing": True},
    }  # fmt: skip
    assert admin.patch("/api/sign-in-exp", json=email_sign_up).status_code == 200
    start(end_user)
    tagged = end_user.post(NPI, json=identity("email", "dana+x@example.com"))
    assert (tagged.status_code, tagged.json()["code"]) == (
        422,
        "session.email_blocklist.email_subaddressing_not_allowed",
    )
    by_password = end_user.post(NPI, json=identity("email", "Dana@Example.com"))
    assert by_password.status_code == 200, by_password.text
    password_id = by_password.json()["verificationId"]
    unproven = end_user.post("/api/experience/identification", json={"verificationId": password_id})
    assert (unproven.status_code, unproven.json()["code"]) == (400, "session.verification_failed")
    identifier = {"type": "email", "value": "dana@example.com"}
    sent = end_user.post(
        "/api/experience/verification/verification-code",
        json={"identifier": identifier, "interactionEvent": "Register"},
    )
    assert sent.status_code == 200, sent.text
    [message] = admin.get("/api/outbox", params={"email": "dana@example.com"}).json()
    verified = end_user.post(
        "/api/experience/verification/verification-code/verify",
        json={
            "identifier": identifier,
            "verificationId": sent.json()["verificationId"],
            "code": message["code"],
        },
    )
    assert verified.status_code == 200, verified.text
    created = end_user.post("/api/experience/identification", json={"verificationId": password_id})
    assert created.status_code == 201, created.text
    assert end_user.post("/api/experience/submit").status_code == 200
    start(end_user, "SignIn")
    signed_in = end_user.post(
        "/api/experience/verification/password",
        json={"identifier": {"type": "email", "value": "DANA@example.com"}, "password": PASSWORD},
    )
    assert signed_in.status_code == 200, signed_in.text
    start(end_user)
    taken = end_user.post(NPI, json=identity("email", "dana@example.com"))
    assert (taken.status_code, taken.json()["code"]) == (422, "user.email_already_in_use")
