"""Logto's Management API users over real HTTP (uvicorn on 127.0.0.1), on SQLite and PostgreSQL:
create, read, change, password, suspension, uniqueness (also under concurrency), validation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests import local_http
from tests.e2e.conftest import Deployment, deploy_for_test
from tests.web.management.test_users import KEYS

from phoneauth.settings import Settings

PHONE = "+4915112345678"
EMAIL = "Ada.Lovelace@Example.COM"
STORED_EMAIL = "Ada.Lovelace@example.com"
PASSWORD = "a password nobody guesses"


@pytest.fixture
def deployment(
    settings: Settings,
    module_settings: Settings,
    module_app: FastAPI,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    with deploy_for_test(settings, module_settings, module_app, request) as deployed:
        yield deployed


@pytest.fixture
async def admin(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=60
    ) as client:
        yield client


async def create(admin: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    created = await admin.post("/api/users", json=body)
    assert created.status_code == 200, created.text
    user: dict[str, Any] = created.json()
    return user


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


# --- create and read -------------------------------------------------------------------------


async def test_create_answers_logto_user_object_and_reads_back(
    admin: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {
        "username": "ada_L0velace",
        "primaryEmail": EMAIL,
        "primaryPhone": PHONE.lstrip("+"),  # Logto's digits-only form
        "password": PASSWORD,
        "name": "Ada Lovelace",
        "avatar": "https://example.com/ada.png",
        "customData": {"plan": "pro", "seats": [1, 2]},
        "profile": {"givenName": "Ada", "address": {"country": "GB"}, "unknown": "dropped"},
        "notAField": "ignored, as Logto's guard does",
    }
    created = await admin.post("/api/users", json=body)
    assert created.status_code == 200  # Logto answers 200, not 201
    user = created.json()
    assert set(user) == KEYS
    assert user["username"] == "ada_L0velace"
    assert user["primaryEmail"] == STORED_EMAIL  # the domain lower-cased, the local part kept
    assert user["primaryPhone"] == PHONE  # stored in E.164
    assert (user["name"], user["avatar"]) == ("Ada Lovelace", "https://example.com/ada.png")
    assert user["customData"] == {"plan": "pro", "seats": [1, 2]}
    assert user["profile"] == {"givenName": "Ada", "address": {"country": "GB"}}
    assert (user["identities"], user["applicationId"], user["cimdClientId"]) == ({}, None, None)
    assert (user["hasPassword"], user["isSuspended"], user["lastSignInAt"]) == (True, False, None)
    assert isinstance(user["createdAt"], int)
    assert user["updatedAt"] == user["createdAt"]
    assert len(user["id"]) == 21
    assert "argon2" not in created.text
    assert PASSWORD not in created.text

    read = await admin.get(f"/api/users/{user['id']}")
    assert (read.status_code, read.json()) == (200, user)
    listed = await admin.get("/api/users")
    assert listed.json() == [user]
    # No email address and no password in any log line, the server's included.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (PASSWORD, EMAIL, STORED_EMAIL, "Ada.Lovelace"):
        assert secret not in logged


async def test_an_empty_body_creates_a_user_without_identifiers(admin: httpx.AsyncClient) -> None:
    user = await create(admin)
    empty = ("username", "primaryEmail", "primaryPhone", "name", "avatar")
    assert [user[key] for key in empty] == [None] * len(empty)
    assert (user["customData"], user["profile"], user["hasPassword"]) == ({}, {}, False)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"username": "1ada"}, "guard.invalid_input"),  # Logto: no leading digit
        ({"username": "ada-l"}, "guard.invalid_input"),
        ({"username": "ädä"}, "guard.invalid_input"),  # JavaScript's \w is ASCII
        ({"username": "a" * 129}, "guard.invalid_input"),
        ({"primaryEmail": "ada"}, "guard.invalid_input"),
        ({"primaryEmail": "ada@example"}, "guard.invalid_input"),  # Logto's pattern
        ({"primaryEmail": "ada..l@example.com"}, "guard.invalid_input"),  # email-validator
        ({"primaryEmail": "a" * 120 + "@example.com"}, "guard.invalid_input"),
        ({"primaryPhone": "+49 151 1234"}, "guard.invalid_input"),
        ({"primaryPhone": "123"}, "phone_number.invalid"),
        ({"password": ""}, "guard.invalid_input"),
        ({"name": "n" * 129}, "guard.invalid_input"),
        ({"name": "nul\u0000byte"}, "guard.invalid_input"),
        (b'{"customData": {"k": "\\ud800"}}', "guard.invalid_input"),  # a lone surrogate
        ({"avatar": "not a url"}, "guard.invalid_input"),
        ({"customData": "text"}, "guard.invalid_input"),
        ({"profile": {"givenName": 7}}, "guard.invalid_input"),
    ],
)
async def test_invalid_fields_are_400(
    admin: httpx.AsyncClient, body: dict[str, Any] | bytes, code: str
) -> None:
    if isinstance(body, bytes):
        sent = await admin.post(
            "/api/users", content=body, headers={"Content-Type": "application/json"}
        )
    else:
        sent = await admin.post("/api/users", json=body)
    refused(sent, 400, code)
    assert (await admin.get("/api/users")).headers["Total-Number"] == "0"


# --- uniqueness ------------------------------------------------------------------------------


async def test_identifiers_are_unique_with_logtos_codes_and_order(
    admin: httpx.AsyncClient,
) -> None:
    first = await create(admin, username="ada", primaryEmail=EMAIL, primaryPhone=PHONE)
    other = await create(admin, username="bob", primaryEmail="bob@example.com")
    clash = {"username": "ada", "primaryEmail": EMAIL.upper(), "primaryPhone": "004915112345678"}
    # POST checks username, email, phone; each alone is its own code.
    refused(await admin.post("/api/users", json=clash), 422, "user.username_already_in_use")
    refused(
        await admin.post("/api/users", json={"primaryEmail": "ADA.lovelace@example.com"}),
        422,
        "user.email_already_in_use",
    )
    refused(
        await admin.post("/api/users", json={"primaryPhone": PHONE.lstrip("+")}),
        422,
        "user.phone_already_in_use",
    )
    # Usernames compare case-sensitively, as Logto's default (`CASE_SENSITIVE_USERNAME`).
    assert (await admin.post("/api/users", json={"username": "Ada"})).status_code == 200
    # PATCH checks email, phone, username, and never against the user itself.
    path = f"/api/users/{other['id']}"
    refused(await admin.patch(path, json=clash), 422, "user.email_already_in_use")
    refused(
        await admin.patch(path, json={"username": "ada", "primaryPhone": PHONE}),
        422,
        "user.phone_already_in_use",
    )
    refused(await admin.patch(path, json={"username": "ada"}), 422, "user.username_already_in_use")
    same = await admin.patch(f"/api/users/{first['id']}", json=clash)
    assert same.status_code == 200, same.text
    assert same.json()["primaryEmail"] == EMAIL.upper()[:-11] + "example.com"


async def test_concurrent_creates_of_one_identifier_give_one_user(
    admin: httpx.AsyncClient,
) -> None:
    """The unique constraints decide a race: one 200, the others Logto's 422, never a 500."""
    for body, code in (
        ({"username": "racer"}, "user.username_already_in_use"),
        ({"primaryEmail": "racer@example.com"}, "user.email_already_in_use"),
        ({"primaryPhone": PHONE}, "user.phone_already_in_use"),
    ):
        answers = await asyncio.gather(*[admin.post("/api/users", json=body) for _ in range(8)])
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200] + [422] * 7, [answer.text for answer in answers]
        assert {a.json()["code"] for a in answers if a.status_code == 422} == {code}
    assert (await admin.get("/api/users")).headers["Total-Number"] == "3"


# --- change ----------------------------------------------------------------------------------


async def test_patch_replaces_the_keys_sent_and_clears_with_empty_or_null(
    admin: httpx.AsyncClient,
) -> None:
    user = await create(
        admin,
        username="ada",
        primaryEmail=EMAIL,
        name="Ada",
        customData={"a": 1, "b": 2},
        profile={"givenName": "Ada", "familyName": "Lovelace"},
    )
    path = f"/api/users/{user['id']}"
    changed = await admin.patch(
        path, json={"name": "Countess", "customData": {"c": 3}, "profile": {"nickname": "A"}}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["customData"], body["profile"]) == (
        "Countess",
        {"c": 3},  # replaced, not merged (Logto's jsonb "replace" mode)
        {"nickname": "A"},
    )
    assert (body["username"], body["primaryEmail"]) == ("ada", STORED_EMAIL)  # not sent: kept
    assert body["updatedAt"] >= user["updatedAt"]
    cleared = (await admin.patch(path, json={"username": "", "primaryEmail": None})).json()
    assert (cleared["username"], cleared["primaryEmail"]) == (None, None)
    # The freed identifiers can be taken by someone else.
    await create(admin, username="ada", primaryEmail=EMAIL)
    phone = (await admin.patch(path, json={"primaryPhone": PHONE.lstrip("+")})).json()
    assert phone["primaryPhone"] == PHONE
    refused(await admin.patch(path, json={"primaryEmail": "nope"}), 400, "guard.invalid_input")
    refused(await admin.patch(path, json={"username": "9"}), 400, "guard.invalid_input")
    refused(await admin.patch("/api/users/nobody", json={"name": "x"}), 404, "user.user_not_exist")


async def test_password_set_verify_and_has_password(admin: httpx.AsyncClient) -> None:
    user = await create(admin, username="ada")
    path = f"/api/users/{user['id']}"
    assert (await admin.get(f"{path}/has-password")).json() == {"hasPassword": False}
    refused(
        await admin.post(f"{path}/password/verify", json={"password": "anything"}),
        422,
        "session.invalid_credentials",
    )
    # No policy for an admin (Logto): one character is a password.
    set_ = await admin.patch(f"{path}/password", json={"password": "x"})
    assert set_.status_code == 200, set_.text
    assert set_.json()["hasPassword"] is True
    assert "argon2" not in set_.text
    assert (await admin.get(f"{path}/has-password")).json() == {"hasPassword": True}
    verified = await admin.post(f"{path}/password/verify", json={"password": "x"})
    assert (verified.status_code, verified.content) == (204, b"")
    refused(
        await admin.post(f"{path}/password/verify", json={"password": "y"}),
        422,
        "session.invalid_credentials",
    )
    refused(
        await admin.patch(f"{path}/password", json={"password": ""}), 400, "guard.invalid_input"
    )
    refused(await admin.post(f"{path}/password/verify", json={}), 400, "guard.invalid_input")
    for response in (
        await admin.get("/api/users/nobody/has-password"),
        await admin.patch("/api/users/nobody/password", json={"password": "x"}),
        await admin.post("/api/users/nobody/password/verify", json={"password": "x"}),
        await admin.patch("/api/users/nobody/is-suspended", json={"isSuspended": True}),
    ):
        refused(response, 404, "user.user_not_exist")


async def test_delete_frees_the_identifiers(admin: httpx.AsyncClient) -> None:
    user = await create(admin, username="ada", primaryEmail=EMAIL, primaryPhone=PHONE)
    deleted = await admin.delete(f"/api/users/{user['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    refused(await admin.get(f"/api/users/{user['id']}"), 404, "user.user_not_exist")
    await create(admin, username="ada", primaryEmail=EMAIL, primaryPhone=PHONE)


# --- list, paging, search --------------------------------------------------------------------


async def _people(admin: httpx.AsyncClient) -> dict[str, str]:
    """Five users, created oldest first; their ids by username."""
    people = [
        {"username": "ada", "primaryEmail": "ada@example.com", "name": "Ada Lovelace"},
        {"username": "Alan", "primaryEmail": "alan@turing.org", "name": "Alan Turing"},
        {"username": "grace", "primaryPhone": PHONE, "name": "Grace Hopper"},
        {"username": "edsger", "primaryEmail": "ed@example.com", "name": "Edsger Dijkstra"},
        {"username": "barbara", "name": "Barbara Liskov"},
    ]
    return {body["username"]: (await create(admin, **body))["id"] for body in people}


async def _found(admin: httpx.AsyncClient, params: Any) -> list[str]:
    response = await admin.get("/api/users", params=params)
    assert response.status_code == 200, response.text
    users = response.json()
    assert response.headers["Total-Number"] == str(len(users))
    return [user["username"] for user in users]


async def test_the_list_pages_newest_first_with_logtos_headers(admin: httpx.AsyncClient) -> None:
    await _people(admin)
    first = await admin.get("/api/users", params={"page_size": 2})
    assert first.headers["Total-Number"] == "5"
    assert [user["username"] for user in first.json()] == ["barbara", "edsger"]
    assert first.headers["Link"] == (
        '</api/users?page=1&page_size=2>; rel="first", '
        '</api/users?page=2&page_size=2>; rel="next", '
        '</api/users?page=3&page_size=2>; rel="last"'
    )
    middle = await admin.get("/api/users", params={"page": 2, "page_size": 2})
    assert [user["username"] for user in middle.json()] == ["grace", "Alan"]
    assert 'rel="prev"' in middle.headers["Link"]
    assert 'rel="next"' in middle.headers["Link"]
    last = await admin.get("/api/users", params={"page": 3, "page_size": 2})
    assert [user["username"] for user in last.json()] == ["ada"]
    assert 'rel="next"' not in last.headers["Link"]
    for bad in ({"page": 0}, {"page_size": 101}, {"page_size": "x"}):
        refused(await admin.get("/api/users", params=bad), 400, "guard.invalid_input")


async def test_search_with_logtos_parameters(admin: httpx.AsyncClient) -> None:
    await _people(admin)
    # `like` is the default mode and the caller writes the `%`; every field is searched.
    assert await _found(admin, {"search": "%example.com"}) == ["edsger", "ada"]
    assert await _found(admin, {"search": "example.com"}) == []
    assert await _found(admin, {"search": "%LOVELACE%"}) == ["ada"]  # case-insensitive
    assert await _found(admin, {"search.name": "%a%", "search.username": "a%"}) == [
        "barbara",
        "edsger",
        "grace",
        "Alan",
        "ada",
    ]
    both = {"search.name": "%a%", "search.username": "a%", "joint": "and"}
    assert await _found(admin, both) == ["Alan", "ada"]
    assert await _found(admin, {**both, "isCaseSensitive": "true"}) == ["ada"]
    assert await _found(admin, {**both, "jointMode": "and"}) == ["Alan", "ada"]
    # `exact` takes repeated values; phones are found in Logto's digits-only form too.
    exact = [("search.username", "ADA"), ("search.username", "grace"), ("mode", "exact")]
    assert await _found(admin, exact) == ["grace", "ada"]
    phone = {"search.primaryPhone": PHONE.lstrip("+"), "mode.primaryPhone": "exact"}
    assert await _found(admin, phone) == ["grace"]
    assert await _found(admin, {"search.primaryPhone": "%5112%"}) == ["grace"]
    posix = {"search.username": "^(ada|edsger)$", "mode": "posix"}
    assert await _found(admin, posix) == ["edsger", "ada"]
    similar = {"search.username": "(A|g)%", "mode": "similar_to", "isCaseSensitive": "true"}
    assert await _found(admin, similar) == ["grace", "Alan"]
    paged = await admin.get("/api/users", params={"search.name": "%a%", "page_size": 2})
    assert paged.headers["Total-Number"] == "5"
    assert len(paged.json()) == 2
    # The phoneauth filter by phone in any format still answers.
    assert await _found(admin, {"phone": "0049" + PHONE[3:]}) == ["grace"]


async def test_a_phone_is_found_in_the_form_logto_stores_it(admin: httpx.AsyncClient) -> None:
    # Logto keeps `4915112345678` where phoneauth keeps `+4915112345678`: a script written
    # against Logto searches with digits (whole, or as a pattern) and must find the same user.
    await _people(admin)
    digits = PHONE.lstrip("+")
    for params in (
        {"search": digits},  # `like` without `%`: the whole value
        {"search.primaryPhone": digits},
        {"search.primaryPhone": digits[:5] + "%"},
        {"search.primaryPhone": "^" + digits[:4], "mode": "posix"},
        {"search.primaryPhone": digits[:5] + "%", "mode": "similar_to", "isCaseSensitive": "true"},
        {"search.primaryPhone": digits[:5] + "%", "isCaseSensitive": "true"},
        # and in E.164, as phoneauth answers it
        {"search": PHONE},
        {"search.primaryPhone": PHONE[:6] + "%"},
        {"search.primaryPhone": "^\\" + PHONE[:5], "mode": "posix"},
    ):
        assert await _found(admin, params) == ["grace"], params
    # Not any number: another one, or digits inside it taken for its start, find nobody.
    for params in (
        {"search": "4915112345679"},
        {"search.primaryPhone": digits[1:6] + "%"},
        {"search.primaryPhone": "^" + digits[1:5], "mode": "posix"},
    ):
        assert await _found(admin, params) == [], params


@pytest.mark.parametrize(
    "params",
    [
        {"search.password": "%x%"},  # not a searchable field
        {"search": ""},
        {"search": "a\u0000"},
        [("search.name", "a"), ("search.name", "b")],  # repeated outside `exact`
        {"search": "a", "mode": "fuzzy"},
        {"search": "a", "mode.nope": "exact"},
        {"search": "a", "joint": "xor"},
        {"search": "a", "isCaseSensitive": "yes"},
        {"search": "a%", "mode": "similar_to"},  # needs isCaseSensitive=true
        {"search": "(", "mode": "posix"},
    ],
)
async def test_bad_searches_are_400_request_invalid_input(
    admin: httpx.AsyncClient, params: Any
) -> None:
    refused(await admin.get("/api/users", params=params), 400, "request.invalid_input")


# --- suspension ------------------------------------------------------------------------------


PHONE_CODE_AND_PASSWORD = {
    "identifier": "phone",
    "password": True,
    "verificationCode": True,
    "isPasswordPrimary": True,
}


@pytest.fixture
async def sign_in_by_phone(admin: httpx.AsyncClient) -> None:
    """The outbox as SMS connector, and sign-in by phone with a code or a password."""
    created = await admin.post("/api/connectors", json={"connectorId": "outbox-sms", "config": {}})
    assert created.status_code == 200, created.text
    saved = await admin.patch(
        "/api/sign-in-exp", json={"signIn": {"methods": [PHONE_CODE_AND_PASSWORD]}}
    )
    assert saved.status_code == 200, saved.text


async def _password_verification(device: httpx.AsyncClient) -> httpx.Response:
    started = await device.put("/api/experience", json={"interactionEvent": "SignIn"})
    assert started.status_code == 204, started.text
    return await device.post(
        "/api/experience/verification/password",
        json={"identifier": {"type": "phone", "value": PHONE}, "password": PASSWORD},
    )


async def _code_verification(device: httpx.AsyncClient, admin: httpx.AsyncClient) -> str:
    started = await device.put("/api/experience", json={"interactionEvent": "SignIn"})
    assert started.status_code == 204, started.text
    identifier = {"type": "phone", "value": PHONE}
    sent = await device.post(
        "/api/experience/verification/verification-code",
        json={"identifier": identifier, "interactionEvent": "SignIn"},
    )
    assert sent.status_code == 200, sent.text
    verification_id = sent.json()["verificationId"]
    messages = (await admin.get("/api/outbox", params={"phone": PHONE})).json()
    verified = await device.post(
        "/api/experience/verification/verification-code/verify",
        json={
            "identifier": identifier,
            "verificationId": verification_id,
            "code": messages[0]["code"],
        },
    )
    assert verified.status_code == 200, verified.text
    return str(verification_id)


async def test_a_suspended_user_cannot_sign_in_and_loses_their_sessions(
    admin: httpx.AsyncClient, deployment: Deployment, sign_in_by_phone: None
) -> None:
    user = await create(admin, primaryPhone=PHONE, password=PASSWORD)
    path = f"/api/users/{user['id']}"
    async with local_http.async_client(base_url=deployment.url, timeout=60) as device:
        verified = await _password_verification(device)
        assert verified.status_code == 200, verified.text
        identified = await device.post(
            "/api/experience/identification",
            json={"verificationId": verified.json()["verificationId"]},
        )
        assert identified.status_code == 204, identified.text
        # Suspended between identification and submit: the submit refuses.
        suspended = await admin.patch(f"{path}/is-suspended", json={"isSuspended": True})
        assert (suspended.status_code, suspended.json()["isSuspended"]) == (200, True)
        refused(await device.post("/api/experience/submit"), 401, "user.suspended")
        # A password sign-in: refused after the password is checked (a wrong one stays 422).
        refused(await _password_verification(device), 401, "user.suspended")
        wrong = await device.post(
            "/api/experience/verification/password",
            json={"identifier": {"type": "phone", "value": PHONE}, "password": "wrong"},
        )
        refused(wrong, 422, "session.invalid_credentials")
        # A code sign-in: refused at identification.
        verification_id = await _code_verification(device, admin)
        refused(
            await device.post(
                "/api/experience/identification", json={"verificationId": verification_id}
            ),
            401,
            "user.suspended",
        )
        # Lifted: the user signs in, and `lastSignInAt` says when.
        lifted = await admin.patch(f"{path}/is-suspended", json={"isSuspended": False})
        assert lifted.json()["isSuspended"] is False
        verified = await _password_verification(device)
        assert verified.status_code == 200, verified.text
        identified = await device.post(
            "/api/experience/identification",
            json={"verificationId": verified.json()["verificationId"]},
        )
        assert identified.status_code == 204, identified.text
        submitted = await device.post("/api/experience/submit")
        assert submitted.status_code == 200, submitted.text
        token = {"Authorization": f"Bearer {submitted.json()['accessToken']}"}
        assert (await device.get("/api/my-account", headers=token)).status_code == 200
        signed_in = (await admin.get(path)).json()
        assert isinstance(signed_in["lastSignInAt"], int)
        assert signed_in["lastSignInAt"] >= signed_in["createdAt"]
        # Suspending ends the sessions there are: the token stops working at once.
        await admin.patch(f"{path}/is-suspended", json={"isSuspended": True})
        refused(await device.get("/api/my-account", headers=token), 401, "auth.unauthorized")
    refused(
        await admin.patch(f"{path}/is-suspended", json={"isSuspended": "maybe"}),
        400,
        "guard.invalid_input",
    )
