"""API resources (Logto's `/api/resources`) over real HTTP on SQLite and PostgreSQL, and the
tokens apps get for them (RFC 8707 `resource`): one server per database for the module."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from tests.e2e.oidc_support import (
    AUTHLIB_WARNINGS,
    MANAGEMENT,
    REDIRECT,
    Provider,
    authorize,
    exchange,
    m2m_token,
    query_of,
    registered,
    rp,
    serve_provider,
    verified_id_token,
)

pytestmark = pytest.mark.filterwarnings(AUTHLIB_WARNINGS)

MANAGEMENT_RESOURCE = {
    "tenantId": "default",
    "id": "management-api",
    "name": "Logto Management API",
    "indicator": MANAGEMENT,
    "isDefault": False,
    "accessTokenTtl": 3600,
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    with serve_provider(request.param, tmp_path_factory.mktemp("resources")) as served:
        yield served


def new_indicator() -> str:
    return f"https://api-{secrets.token_hex(4)}.example.com"


async def create(admin: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    made = await admin.post("/api/resources", json={"name": "Orders API", **body})
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


def assert_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


async def test_resources_are_created_read_changed_and_deleted(provider: Provider) -> None:
    indicator = new_indicator()
    async with provider.admin() as admin:
        made = await admin.post(
            "/api/resources", json={"name": "Orders API", "indicator": indicator}
        )
        assert made.status_code == 201, made.text
        created = made.json()
        resource_id = created["id"]
        assert created == {
            "tenantId": "default",
            "id": resource_id,
            "name": "Orders API",
            "indicator": indicator,
            "isDefault": False,
            "accessTokenTtl": 3600,
            "scopes": [],
        }
        read = {key: value for key, value in created.items() if key != "scopes"}
        listed = (await admin.get("/api/resources")).json()
        assert listed[0] == MANAGEMENT_RESOURCE
        assert read in listed
        paged = await admin.get("/api/resources", params={"page": 1, "page_size": 1})
        assert paged.json() == [MANAGEMENT_RESOURCE]
        assert int(paged.headers["Total-Number"]) == len(listed)
        assert (await admin.get(f"/api/resources/{resource_id}")).json() == read
        changed = await admin.patch(
            f"/api/resources/{resource_id}",
            # The indicator is not changed (Logto drops it): tokens already issued name it.
            json={"name": "Orders", "accessTokenTtl": 600, "indicator": "https://elsewhere.test"},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["name"] == "Orders"
        assert changed.json()["accessTokenTtl"] == 600
        assert changed.json()["indicator"] == indicator
        again = (await admin.get(f"/api/resources/{resource_id}")).json()
        assert (again["name"], again["accessTokenTtl"]) == ("Orders", 600)
        deleted = await admin.delete(f"/api/resources/{resource_id}")
        assert deleted.status_code == 204
        assert_error(
            await admin.get(f"/api/resources/{resource_id}"), 404, "entity.not_exists_with_id"
        )
        assert_error(
            await admin.delete(f"/api/resources/{resource_id}"), 404, "entity.not_exists_with_id"
        )
        assert_error(
            await admin.patch(f"/api/resources/{resource_id}", json={"name": "x"}),
            404,
            "entity.not_exists_with_id",
        )


async def test_the_management_api_resource_is_read_only(provider: Provider) -> None:
    async with provider.admin() as admin:
        read = await admin.get("/api/resources/management-api")
        assert read.json() == MANAGEMENT_RESOURCE
        assert_error(
            await admin.patch("/api/resources/management-api", json={"accessTokenTtl": 60}),
            400,
            "resource.cannot_modify_management_api",
        )
        assert_error(
            await admin.delete("/api/resources/management-api"),
            400,
            "resource.cannot_delete_management_api",
        )
        # Nor can another resource take its indicator.
        assert_error(
            await admin.post("/api/resources", json={"name": "Mine", "indicator": MANAGEMENT}),
            422,
            "resource.resource_identifier_in_use",
        )
        assert (await admin.get("/api/resources/management-api")).json() == MANAGEMENT_RESOURCE


async def test_bad_resources_are_refused(provider: Provider) -> None:
    indicator = new_indicator()
    async with provider.admin() as admin:
        await create(admin, indicator=indicator)
        assert_error(
            await admin.post("/api/resources", json={"name": "Twice", "indicator": indicator}),
            422,
            "resource.resource_identifier_in_use",
        )
        for bad in (
            "api.example.com",  # not absolute
            "https://api.example.com/#part",  # RFC 8707: no fragment
            "https://api.example.com/ x",
            "https://api.example.com/" + "a" * 2048,
        ):
            answer = await admin.post("/api/resources", json={"name": "Bad", "indicator": bad})
            assert_error(answer, 400, "guard.invalid_input")
        for ttl in (0, 59, 30 * 24 * 3600 + 1, "soon"):
            answer = await admin.post(
                "/api/resources",
                json={"name": "Bad", "indicator": new_indicator(), "accessTokenTtl": ttl},
            )
            assert_error(answer, 400, "guard.invalid_input")
        for body in ({"indicator": new_indicator()}, {"name": "", "indicator": new_indicator()}):
            assert_error(await admin.post("/api/resources", json=body), 400, "guard.invalid_input")
    async with provider.browser() as anonymous:
        assert_error(await anonymous.get("/api/resources"), 401, "auth.unauthorized")


async def test_resources_belong_to_one_tenant(provider: Provider) -> None:
    tenant = "r" + secrets.token_hex(4)
    indicator = new_indicator()
    async with provider.admin() as admin:
        made = await admin.post("/api/tenants", json={"id": tenant, "name": "Resources"})
        assert made.status_code == 201, made.text
        ours = await create(admin, indicator=indicator)
        # The same indicator is free in another tenant.
        theirs = await admin.post(
            f"/t/{tenant}/api/resources", json={"name": "Theirs", "indicator": indicator}
        )
        assert theirs.status_code == 201, theirs.text
        assert theirs.json()["tenantId"] == tenant
        listed = (await admin.get(f"/t/{tenant}/api/resources")).json()
        assert listed[0]["indicator"] == f"https://{tenant}.logto.app/api"
        assert [item["id"] for item in listed[1:]] == [theirs.json()["id"]]
        assert_error(
            await admin.get(f"/t/{tenant}/api/resources/{ours['id']}"),
            404,
            "entity.not_exists_with_id",
        )


# --- tokens for a registered resource ---------------------------------------------------------


async def test_a_users_token_for_a_registered_resource(provider: Provider) -> None:
    indicator = new_indicator()
    async with provider.admin() as admin:
        await create(admin, indicator=indicator, accessTokenTtl=600)
    phone, user_id = await registered(provider)
    async with provider.browser() as browser:
        authorized = await authorize(provider, provider.spa, browser, phone, resource=indicator)
    token = await exchange(provider, authorized, provider.spa)
    assert token["expires_in"] == 600
    access = await verified_id_token(provider, token["access_token"], indicator)
    assert access["aud"] == indicator
    assert access["sub"] == user_id
    assert access["client_id"] == provider.spa
    assert access["exp"] - access["iat"] == 600
    assert jwt.get_unverified_header(token["access_token"])["typ"] == "at+jwt"


async def test_an_unknown_resource_is_an_invalid_target(provider: Provider) -> None:
    client = rp(provider, provider.spa)
    url, state = client.create_authorization_url(
        f"{provider.issuer}/auth",
        scope="openid",
        code_verifier=secrets.token_urlsafe(48),
        resource="https://unknown.example.com",
    )
    async with provider.browser() as browser:
        answer = await browser.get(url)
    assert answer.status_code in (302, 303), answer.text
    assert answer.headers["location"].startswith(REDIRECT + "?")
    assert query_of(answer.headers["location"])["error"] == "invalid_target"
    assert query_of(answer.headers["location"])["state"] == state


async def test_machine_tokens_for_a_resource_end_when_it_is_deleted(provider: Provider) -> None:
    indicator = new_indicator()
    async with provider.admin() as admin:
        made = await create(admin, indicator=indicator, accessTokenTtl=120)
        # Any machine-to-machine app may have a token for a registered API (not the
        # Management API, which needs the role).
        issued = await m2m_token(
            provider, provider.lonely_m2m, provider.lonely_m2m_secret, resource=indicator
        )
        assert issued.status_code == 200, issued.text
        assert issued.json()["expires_in"] == 120
        claims = jwt.decode(issued.json()["access_token"], options={"verify_signature": False})
        assert (claims["aud"], claims["sub"]) == (indicator, provider.lonely_m2m)
        assert (await admin.delete(f"/api/resources/{made['id']}")).status_code == 204
    refused = await m2m_token(
        provider, provider.lonely_m2m, provider.lonely_m2m_secret, resource=indicator
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_target"
