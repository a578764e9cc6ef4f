"""The tenant's password policy wherever Logto applies it to end users (logto-parity §3.5, §5.3,
§6.4): the Account API's new password, the Experience profile's password and the forgot-password
reset, over real HTTP on SQLite and PostgreSQL. Issues travel in `data.issues` of 422
`password.rejected`, as in Logto; the Management API sets any password (§1.4)."""

from __future__ import annotations

from typing import Any

import httpx
from tests.web.parity.conftest import BREACHED

PASSWORD = "Str0ng-Passphrase!"
NEW_PASSWORD = "New-Passphrase-42"
EMAIL_SIGN_IN = {
    "identifier": "email",
    "password": True,
    "verificationCode": True,
    "isPasswordPrimary": True,
}
LENIENT = {
    "length": {"min": 4, "max": 256},
    "characterTypes": {"min": 1},
    "rejects": {"pwned": False, "repetitionAndSequence": False, "userInfo": False, "words": []},
}


def answer(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def issues(response: httpx.Response) -> list[dict[str, Any]]:
    assert answer(response) == (422, "password.rejected"), response.text
    found: list[dict[str, Any]] = response.json()["data"]["issues"]
    return found


def set_up(admin: httpx.Client) -> None:
    assert admin.post("/api/connectors", json={"connectorId": "outbox-email"}).status_code == 200
    document = {
        "signUp": {"identifiers": ["email"], "password": True, "verify": True},
        "signIn": {
            "methods": [
                EMAIL_SIGN_IN,
                {"identifier": "username", "password": True, "verificationCode": False,
                 "isPasswordPrimary": True},
            ]
        },
        "forgotPasswordMethods": ["EmailVerificationCode"],
    }  # fmt: skip
    changed = admin.patch("/api/sign-in-exp", json=document)
    assert changed.status_code == 200, changed.text
    center = {"enabled": True, "fields": {"password": "Edit"}}
    assert admin.patch("/api/account-center", json=center).status_code == 200


def create_user(admin: httpx.Client, **fields: Any) -> str:
    created = admin.post("/api/users", json=fields)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def identified_by_email_code(
    admin: httpx.Client, end_user: httpx.Client, email: str, event: str
) -> None:
    assert end_user.put("/api/experience", json={"interactionEvent": event}).status_code == 204
    identifier = {"type": "email", "value": email}
    sent = end_user.post(
        "/api/experience/verification/verification-code",
        json={"identifier": identifier, "interactionEvent": event},
    )
    assert sent.status_code == 200, sent.text
    verification_id = sent.json()["verificationId"]
    admin_codes = admin.get("/api/outbox", params={"email": email}).json()
    verified = end_user.post(
        "/api/experience/verification/verification-code/verify",
        json={"identifier": identifier, "verificationId": verification_id,
              "code": admin_codes[0]["code"]},
    )  # fmt: skip
    assert verified.status_code == 200, verified.text
    identified = end_user.post(
        "/api/experience/identification", json={"verificationId": verification_id}
    )
    assert identified.status_code == 204, identified.text


def test_account_password_follows_the_tenant_policy(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    set_up(admin)
    # The Management API applies no policy (Logto): a short password is taken.
    user_id = create_user(admin, username="alice", primaryEmail="alice@example.com", password="abc")
    assert end_user.put("/api/experience", json={"interactionEvent": "SignIn"}).status_code == 204
    checked = end_user.post(
        "/api/experience/verification/password",
        json={"identifier": {"type": "username", "value": "alice"}, "password": "abc"},
    )
    end_user.post(
        "/api/experience/identification", json={"verificationId": checked.json()["verificationId"]}
    )
    token = end_user.post("/api/experience/submit").json()["accessToken"]
    me = {"Authorization": f"Bearer {token}"}
    proof = end_user.post("/api/verifications/password", json={"password": "abc"}, headers=me)
    assert proof.status_code == 201, proof.text
    me["logto-verification-id"] = proof.json()["verificationRecordId"]

    def change(password: str) -> httpx.Response:
        return end_user.post("/api/my-account/password", json={"password": password}, headers=me)

    assert {"code": "password_rejected.too_short", "interpolation": {"min": 8}} in issues(
        change("short")
    )
    assert issues(change(BREACHED)) == [{"code": "password_rejected.pwned"}]
    # The account's own identifiers feed the user-info rule.
    assert issues(change("Xalice1alice")) == [{"code": "password_rejected.restricted.user_info"}]
    # Logto's order: the policy before the current password.
    assert issues(change("abc"))
    assert change(PASSWORD).status_code == 204
    assert answer(change(PASSWORD)) == (422, "user.same_password")
    # The tenant's policy, not a fixed minimum: four characters once the policy allows them.
    changed = admin.patch("/api/sign-in-exp", json={"passwordPolicy": LENIENT})
    assert changed.status_code == 200, changed.text
    assert change("Zq9!").status_code == 204
    verify = admin.post(f"/api/users/{user_id}/password/verify", json={"password": "Zq9!"})
    assert verify.status_code == 204


def test_experience_passwords_follow_the_tenant_policy(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    set_up(admin)
    create_user(admin, primaryEmail="grace@example.com", password=PASSWORD)
    create_user(admin, primaryEmail="hank@example.com")

    # Forgot password: the policy, then never the current password.
    identified_by_email_code(admin, end_user, "grace@example.com", "ForgotPassword")

    def reset(password: str) -> httpx.Response:
        return end_user.put("/api/experience/profile/password", json={"password": password})

    assert {"code": "password_rejected.too_short", "interpolation": {"min": 8}} in issues(
        reset("short")
    )
    assert answer(reset(PASSWORD)) == (422, "user.same_password")
    strict = {**LENIENT, "length": {"min": 20, "max": 256}}
    assert admin.patch("/api/sign-in-exp", json={"passwordPolicy": strict}).status_code == 200
    assert issues(reset(NEW_PASSWORD)) == [
        {"code": "password_rejected.too_short", "interpolation": {"min": 20}}
    ]
    assert admin.patch("/api/sign-in-exp", json={"passwordPolicy": {}}).status_code == 200
    assert reset(NEW_PASSWORD).status_code == 204
    assert end_user.post("/api/experience/submit").status_code == 204

    # Sign-in asks for the password the sign-up settings require; the profile step checks it.
    identified_by_email_code(admin, end_user, "hank@example.com", "SignIn")
    missing = end_user.post("/api/experience/submit")
    assert missing.json()["data"] == {"missingProfile": ["password"]}
    profile = "/api/experience/profile"
    weak = end_user.post(profile, json={"type": "password", "value": "hank@example.com"})
    assert {"code": "password_rejected.restricted.user_info"} in issues(weak)
    assert (
        end_user.post(profile, json={"type": "password", "value": NEW_PASSWORD}).status_code == 204
    )
    assert end_user.post("/api/experience/submit").status_code == 200
