"""GET /api/users (paged, by phone), GET and DELETE /api/users/{id}: never a password hash."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from tests.web.account_support import anonymous

from phoneauth.domain.passwords import hash_password
from phoneauth.domain.sessions import SESSION_COOKIE, NotSignedInError
from phoneauth.domain.users import User
from phoneauth.wiring import Services

PHONE = "+4915112345678"
# Logto's user object (logto-parity §1.1) and phoneauth's `mfaFactors`.
KEYS = {
    "id",
    "username",
    "primaryEmail",
    "primaryPhone",
    "name",
    "avatar",
    "customData",
    "identities",
    "profile",
    "lastSignInAt",
    "createdAt",
    "updatedAt",
    "applicationId",
    "cimdClientId",
    "isSuspended",
    "hasPassword",
    "mfaFactors",
}


async def make_users(services: Services, count: int, tenant_id: str = "default") -> list[User]:
    return [
        await services.users.create(tenant_id, phone=f"+49151{index:08d}") for index in range(count)
    ]


async def test_a_user_reads_as_public_and_never_with_the_password_hash(
    api: httpx.AsyncClient, services: Services
) -> None:
    password_hash = hash_password("correct horse battery")
    user = await services.users.create("default", phone=PHONE, password_hash=password_hash)
    response = await api.get(f"/api/users/{user.id}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == KEYS
    assert (body["id"], body["primaryPhone"], body["hasPassword"]) == (user.id, PHONE, True)
    assert body["mfaFactors"] == []
    assert "argon2" not in response.text
    assert password_hash not in response.text
    listed = await api.get("/api/users")
    assert listed.json() == [body]
    assert "argon2" not in listed.text


async def test_the_list_is_paged_with_the_total_in_a_header(
    api: httpx.AsyncClient, services: Services
) -> None:
    users = await make_users(services, 5)
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await api.get("/api/users", params={"page": page, "page_size": 2})
        assert response.status_code == 200
        assert response.headers["Total-Number"] == "5"
        seen += [user["id"] for user in response.json()]
    assert sorted(seen) == sorted(user.id for user in users)
    beyond = await api.get("/api/users", params={"page": 4, "page_size": 2})
    assert (beyond.json(), beyond.headers["Total-Number"]) == ([], "5")


async def test_find_a_user_by_phone_in_any_format(
    api: httpx.AsyncClient, services: Services
) -> None:
    [_, second, _] = await make_users(services, 3)
    assert second.phone is not None
    for given in (second.phone, second.phone.lstrip("+"), "00" + second.phone[1:]):
        found = await api.get("/api/users", params={"phone": given})
        assert found.status_code == 200
        assert [user["id"] for user in found.json()] == [second.id]
        assert found.headers["Total-Number"] == "1"
    nobody = await api.get("/api/users", params={"phone": PHONE})
    assert (nobody.json(), nobody.headers["Total-Number"]) == ([], "0")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"phone": "+49123"}, "phone_number.invalid"),
        ({"phone": ""}, "guard.invalid_input"),
        ({"page": 0}, "guard.invalid_input"),
        ({"page_size": 0}, "guard.invalid_input"),
        ({"page_size": 101}, "guard.invalid_input"),
        ({"page": "two"}, "guard.invalid_input"),
    ],
)
async def test_bad_queries_are_400(
    api: httpx.AsyncClient, params: dict[str, object], code: str
) -> None:
    response = await api.get("/api/users", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == code


async def test_unknown_users_are_404_user_not_exist(api: httpx.AsyncClient) -> None:
    for response in (await api.get("/api/users/nope"), await api.delete("/api/users/nope")):
        assert response.status_code == 404
        assert response.json()["code"] == "user.user_not_exist"


async def test_delete_removes_the_user_and_their_sessions(
    api: httpx.AsyncClient, services: Services
) -> None:
    [user, other] = await make_users(services, 2)
    issued = await services.sessions.sign_in(user)
    principal = await services.sessions.authenticate("default", cookie=issued.cookie_token)
    assert principal.user_id == user.id
    deleted = await api.delete(f"/api/users/{user.id}")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await api.get(f"/api/users/{user.id}")).status_code == 404
    assert (await api.delete(f"/api/users/{user.id}")).status_code == 404
    assert await services.users.find_by_phone("default", str(user.phone)) is None
    with pytest.raises(NotSignedInError):
        await services.sessions.authenticate("default", cookie=issued.cookie_token)
    listed = await api.get("/api/users")
    assert [u["id"] for u in listed.json()] == [other.id]
    assert listed.headers["Total-Number"] == "1"
    # The phone number is free again.
    assert (await services.users.create("default", phone=user.phone)).phone == user.phone


async def test_a_deleted_users_tokens_and_cookies_stop_working_at_once(
    api: httpx.AsyncClient, services: Services, app: FastAPI
) -> None:
    """The access token is an hour-long JWT: our own endpoints check its session, so deleting
    the user ends it at once, on the Account API and on the account page alike."""
    [user, other] = await make_users(services, 2)
    issued, theirs = await services.sessions.sign_in(user), await services.sessions.sign_in(other)
    bearer = {"Authorization": f"Bearer {issued.access_token}"}
    async with anonymous(app) as device:
        assert (await device.get("/api/my-account", headers=bearer)).status_code == 200
        device.cookies.set(SESSION_COOKIE, issued.cookie_token)
        assert (await device.get("/account")).status_code == 200
        assert (await api.delete(f"/api/users/{user.id}")).status_code == 204

        refused = await device.get("/api/my-account")
        assert (refused.status_code, refused.json()["code"]) == (401, "auth.unauthorized")
        page = await device.get("/account")
        assert (page.status_code, page.headers["location"]) == (303, "/sign-in")
        device.cookies.clear()
        refused = await device.get("/api/my-account", headers=bearer)
        assert (refused.status_code, refused.json()["code"]) == (401, "auth.unauthorized")
        with pytest.raises(NotSignedInError):
            await services.sessions.authenticate("default", bearer=issued.access_token)
        still = {"Authorization": f"Bearer {theirs.access_token}"}
        assert (await device.get("/api/my-account", headers=still)).status_code == 200


async def test_users_never_cross_tenants(api: httpx.AsyncClient, services: Services) -> None:
    assert (await api.post("/api/tenants", json={"id": "acme", "name": "Acme"})).is_success
    [mine] = await make_users(services, 1)
    [theirs] = await make_users(services, 1, "acme")
    listed = await api.get("/t/acme/api/users")
    assert [u["id"] for u in listed.json()] == [theirs.id]
    assert listed.headers["Total-Number"] == "1"
    by_phone = await api.get("/t/acme/api/users", params={"phone": str(mine.phone)})
    assert [u["id"] for u in by_phone.json()] == [theirs.id]  # same number, their own user
    assert (await api.get(f"/t/acme/api/users/{mine.id}")).status_code == 404
    assert (await api.delete(f"/t/acme/api/users/{mine.id}")).status_code == 404
    assert (await api.get(f"/api/users/{mine.id}")).status_code == 200
