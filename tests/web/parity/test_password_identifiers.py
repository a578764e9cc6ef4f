"""Username and email address as password identifiers (logto-parity §2.4, §3.2, §3.4, §3.5,
§3.6, §5.3), over real HTTP: sign-in, profile completion and the Account API's username."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "Str0ng-Passphrase!"
PHONE = "+4915112345678"
PASSWORD_CHECK = "/api/experience/verification/password"

USERNAME_AND_EMAIL = {
    "signUp": {"identifiers": ["username"], "password": True, "verify": False},
    "signIn": {
        "methods": [
            {"identifier": "username", "password": True, "verificationCode": False,
             "isPasswordPrimary": True},
            {"identifier": "email", "password": True, "verificationCode": False,
             "isPasswordPrimary": True},
        ]
    },
}  # fmt: skip


def answer(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def start(end_user: httpx.Client, event: str = "SignIn") -> None:
    assert end_user.put("/api/experience", json={"interactionEvent": event}).status_code == 204


def check(
    end_user: httpx.Client, kind: str, value: str, password: str = PASSWORD
) -> httpx.Response:
    body = {"identifier": {"type": kind, "value": value}, "password": password}
    return end_user.post(PASSWORD_CHECK, json=body)


def create_user(admin: httpx.Client, **fields: Any) -> str:
    created = admin.post("/api/users", json={"password": PASSWORD, **fields})
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


def sign_in(end_user: httpx.Client, kind: str, value: str) -> dict[str, Any]:
    """The whole sign-in; the submit's answer."""
    start(end_user)
    verified = check(end_user, kind, value)
    assert verified.status_code == 200, verified.text
    verification_id = verified.json()["verificationId"]
    identified = end_user.post(
        "/api/experience/identification", json={"verificationId": verification_id}
    )
    assert identified.status_code == 204, identified.text
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    body: dict[str, Any] = submitted.json()
    return body


def me(end_user: httpx.Client, token: str) -> dict[str, Any]:
    found = end_user.get("/api/my-account", headers={"Authorization": f"Bearer {token}"})
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def test_sign_in_with_username_or_email_and_password(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    user_id = create_user(admin, username="Alice_1", primaryEmail="Alice@Example.com")
    by_username = sign_in(end_user, "username", "Alice_1")
    assert me(end_user, by_username["accessToken"])["id"] == user_id
    # The email address is compared without regard to case, as Logto's lower(primary_email).
    by_email = sign_in(end_user, "email", "alice@EXAMPLE.com")
    assert me(end_user, by_email["accessToken"])["id"] == user_id
    shown = end_user.get("/api/experience/interaction")
    # The submit ended the interaction: Logto's answer for a cookie that names no session.
    assert (shown.status_code, shown.json()["code"]) == (400, "session.not_found")


def test_wrong_password_and_unknown_identifiers_answer_alike(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    create_user(admin, username="alice", primaryEmail="alice@example.com")
    start(end_user)
    refusals = [
        check(end_user, "username", "alice", "Wrong-Passw0rd!"),
        check(end_user, "username", "nobody"),
        check(end_user, "email", "alice@example.com", "Wrong-Passw0rd!"),
        check(end_user, "email", "nobody@example.com"),
        check(end_user, "email", "not an address"),
        # The policy is case-sensitive by default: another case is another (unknown) username.
        check(end_user, "username", "ALICE"),
    ]
    bodies = [(r.status_code, r.json()["code"], r.json()["message"]) for r in refusals]
    assert set(bodies) == {bodies[0]}
    assert bodies[0][:2] == (422, "session.invalid_credentials")
    # A policy that ignores case finds the user whatever the case.
    admin.patch("/api/sign-in-exp", json={"usernamePolicy": {"caseSensitive": False}})
    assert check(end_user, "username", "ALICE").status_code == 200
    # The body's shape is still Logto's guard.
    for bad in (
        {"identifier": {"type": "userId", "value": "x"}, "password": PASSWORD},
        {"identifier": {"type": "email", "value": "a@example.com"}, "password": ""},
    ):
        assert answer(end_user.post(PASSWORD_CHECK, json=bad)) == (400, "guard.invalid_input")


def test_identifier_types_not_enabled_and_suspended_users(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    only_username = {
        **USERNAME_AND_EMAIL,
        "signIn": {"methods": USERNAME_AND_EMAIL["signIn"]["methods"][:1]},  # type: ignore[index]
    }
    assert admin.patch("/api/sign-in-exp", json=only_username).status_code == 200
    user_id = create_user(admin, username="alice", primaryEmail="alice@example.com")
    start(end_user)
    for kind, value in (("email", "alice@example.com"), ("phone", PHONE)):
        refused = check(end_user, kind, value)
        assert answer(refused) == (422, "user.sign_in_method_not_enabled"), kind
    # A password record whose method is closed later is refused at identification (Logto).
    admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL)
    verification_id = check(end_user, "email", "alice@example.com").json()["verificationId"]
    admin.patch("/api/sign-in-exp", json=only_username)
    identified = end_user.post(
        "/api/experience/identification", json={"verificationId": verification_id}
    )
    assert answer(identified) == (422, "user.sign_in_method_not_enabled")
    # Suspended: 401 after the right password, the wrong one is still only wrong.
    suspended = admin.patch(f"/api/users/{user_id}/is-suspended", json={"isSuspended": True})
    assert suspended.status_code == 200, suspended.text
    assert answer(check(end_user, "username", "alice")) == (401, "user.suspended")
    wrong = check(end_user, "username", "alice", "Wrong-Passw0rd!")
    assert answer(wrong) == (422, "session.invalid_credentials")


def test_register_with_username_and_password_through_the_profile(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    create_user(admin, username="taken")
    start(end_user, "Register")
    missing = end_user.post("/api/experience/identification", json={})
    assert answer(missing) == (422, "user.missing_profile")
    assert missing.json()["data"]["missingProfile"] == ["password", "username"]
    for value, code in (
        ("1abc", (400, "guard.invalid_input")),
        ("bäd", (400, "guard.invalid_input")),
        ("taken", (422, "user.username_already_in_use")),
    ):
        refused = end_user.post(
            "/api/experience/profile", json={"type": "username", "value": value}
        )
        assert answer(refused) == code, value
    for change in ({"type": "username", "value": "bob_2"}, {"type": "password", "value": PASSWORD}):
        added = end_user.post("/api/experience/profile", json=change)
        assert added.status_code == 204, added.text
    created = end_user.post("/api/experience/identification", json={})
    assert created.status_code == 201, created.text
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    account = me(end_user, submitted.json()["accessToken"])
    assert (account["username"], account["hasPassword"]) == ("bob_2", True)
    assert (
        me(end_user, sign_in(end_user, "username", "bob_2")["accessToken"])["id"] == account["id"]
    )


def test_sign_in_adds_the_username_the_sign_up_settings_ask_for(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    user_id = create_user(admin, primaryEmail="carol@example.com")
    start(end_user)
    verification_id = check(end_user, "email", "carol@example.com").json()["verificationId"]
    identified = end_user.post(
        "/api/experience/identification", json={"verificationId": verification_id}
    )
    assert identified.status_code == 204, identified.text
    missing = end_user.post("/api/experience/submit")
    assert answer(missing) == (422, "user.missing_profile")
    assert missing.json()["data"]["missingProfile"] == ["username"]
    added = end_user.post("/api/experience/profile", json={"type": "username", "value": "carol"})
    assert added.status_code == 204, added.text
    again = end_user.post("/api/experience/profile", json={"type": "username", "value": "carol"})
    assert again.status_code == 204  # still the pending profile: the account has none yet
    submitted = end_user.post("/api/experience/submit")
    assert submitted.status_code == 200, submitted.text
    assert admin.get(f"/api/users/{user_id}").json()["username"] == "carol"
    # Now the account has one: Logto's `username_exists_in_profile`.
    start(end_user)
    verification_id = check(end_user, "username", "carol").json()["verificationId"]
    end_user.post("/api/experience/identification", json={"verificationId": verification_id})
    exists = end_user.post("/api/experience/profile", json={"type": "username", "value": "carol2"})
    assert answer(exists) == (422, "user.username_exists_in_profile")


def test_missing_profile_names_email_as_logto_does(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.post("/api/connectors", json={"connectorId": "outbox-email"}).status_code == 200
    sign_up = {
        "identifiers": ["username"],
        "password": True,
        "verify": True,
        "secondaryIdentifiers": [{"identifier": "email", "verify": True}],
    }
    changed = admin.patch("/api/sign-in-exp", json={**USERNAME_AND_EMAIL, "signUp": sign_up})
    assert changed.status_code == 200, changed.text
    start(end_user, "Register")
    end_user.post("/api/experience/profile", json={"type": "username", "value": "dave"})
    missing = end_user.post("/api/experience/identification", json={})
    assert answer(missing) == (422, "user.missing_profile")
    assert missing.json()["data"]["missingProfile"] == ["password", "email"]


def _verified_identity(admin: httpx.Client, end_user: httpx.Client, token: str) -> str:
    """A verified `UserPermissionValidation` record, by a code to the user's own phone."""
    headers = {"Authorization": f"Bearer {token}"}
    sent = end_user.post(
        "/api/verifications/verification-code",
        json={"identifier": {"type": "phone", "value": PHONE}},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    record_id = sent.json()["verificationRecordId"]
    code = admin.get("/api/outbox", params={"phone": PHONE}).json()[0]["code"]
    verified = end_user.post(
        "/api/verifications/verification-code/verify",
        json={
            "identifier": {"type": "phone", "value": PHONE},
            "verificationId": record_id,
            "code": str(code),
        },
        headers=headers,
    )
    assert verified.status_code == 200, verified.text
    return str(record_id)


def test_account_api_username_follows_the_account_center(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.post(
        "/api/connectors", json={"connectorId": "outbox-sms", "config": {}}
    ).is_success
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    create_user(admin, username="erin", primaryPhone=PHONE)
    create_user(admin, username="taken")
    token = sign_in(end_user, "username", "erin")["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}

    def patch(body: dict[str, Any], record_id: str | None = None) -> httpx.Response:
        headers = auth if record_id is None else {**auth, "logto-verification-id": record_id}
        return end_user.patch("/api/my-account", json=body, headers=headers)

    assert answer(patch({"username": "erin2"})) == (400, "account_center.not_enabled")
    admin.patch("/api/account-center", json={"enabled": True, "fields": {"username": "ReadOnly"}})
    assert answer(patch({"username": "erin2"})) == (400, "account_center.field_not_editable")
    admin.patch("/api/account-center", json={"fields": {"username": "Edit"}})
    assert answer(patch({"username": "erin2"})) == (401, "verification_record.permission_denied")
    record_id = _verified_identity(admin, end_user, token)
    assert answer(patch({"username": "1erin"}, record_id)) == (400, "guard.invalid_input")
    admin.patch("/api/sign-in-exp", json={"usernamePolicy": {"minLength": 3}})
    assert answer(patch({"username": "er"}, record_id)) == (422, "user.username_too_short")
    assert answer(patch({"username": "taken"}, record_id)) == (422, "user.username_already_in_use")
    changed = patch({"username": "erin2"}, record_id)
    assert changed.status_code == 200, changed.text
    assert changed.json()["username"] == "erin2"
    assert (
        me(end_user, sign_in(end_user, "username", "erin2")["accessToken"])["username"] == "erin2"
    )
    # `null` removes it while the phone is left to sign in with.
    removed = patch({"username": None}, record_id)
    assert removed.status_code == 200, removed.text
    assert removed.json()["username"] is None


def test_account_api_keeps_the_last_identifier(admin: httpx.Client, end_user: httpx.Client) -> None:
    assert admin.post(
        "/api/connectors", json={"connectorId": "outbox-sms", "config": {}}
    ).is_success
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    user_id = create_user(admin, username="frank", primaryPhone=PHONE)
    token = sign_in(end_user, "username", "frank")["accessToken"]
    admin.patch("/api/account-center", json={"enabled": True, "fields": {"username": "Edit"}})
    record_id = _verified_identity(admin, end_user, token)
    # Without the phone, the username is the only identifier left.
    assert admin.patch(f"/api/users/{user_id}", json={"primaryPhone": None}).status_code == 200
    refused = end_user.patch(
        "/api/my-account",
        json={"username": None},
        headers={"Authorization": f"Bearer {token}", "logto-verification-id": record_id},
    )
    assert answer(refused) == (400, "user.last_sign_in_method_required")


def test_wrong_passwords_lock_a_username_or_an_email(
    admin: httpx.Client, end_user: httpx.Client
) -> None:
    assert admin.patch("/api/sign-in-exp", json=USERNAME_AND_EMAIL).status_code == 200
    limits = {"failedVerificationLimit": 2, "lockoutSeconds": 120}
    assert admin.patch("/api/tenant/settings", json={"rateLimits": limits}).status_code == 200
    create_user(admin, username="gina", primaryEmail="gina@example.com")
    create_user(admin, username="hank")
    start(end_user)
    for kind, value in (("username", "gina"), ("email", "Gina@Example.com")):
        for _ in range(2):
            wrong = check(end_user, kind, value, "Wrong-Passw0rd!")
            assert answer(wrong) == (422, "session.invalid_credentials")
        locked = check(end_user, kind, value)  # even the right password, while locked
        assert locked.json()["code"] == "session.verification_blocked_too_many_attempts", kind
    # Another account's counter is its own.
    assert check(end_user, "username", "hank").status_code == 200
