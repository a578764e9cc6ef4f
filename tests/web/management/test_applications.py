"""Applications, their secrets and roles over the Management API, over real HTTP: one server per
database for the whole module (an SQLite file, then a PostgreSQL schema), Logto's shapes and
codes, secrets shown once and kept only as hashes."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests import local_http
from tests.conftest import POSTGRES_URL
from tests.e2e.conftest import Deployment, deploy

from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.storage.migrate import upgrade

APPS = "/api/applications"
ROLE = "management-api-access"


async def _schema(statement: str, schema: str, migrate: bool) -> None:
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(statement.format(schema=schema)))
    finally:
        await admin.dispose()
    if migrate:
        database = open_database(POSTGRES_URL, schema=schema)
        try:
            await upgrade(database.engine)
        finally:
            await database.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """The app under uvicorn for the whole module, on a fresh SQLite file or PostgreSQL schema
    (no PHONEAUTH_* of the shell: it starts before the per-test `clean_environ`)."""
    folder = tmp_path_factory.mktemp(f"apps-{request.param}")
    schema = None
    url = f"sqlite+aiosqlite:///{folder / 'phoneauth.db'}"
    if request.param == "postgresql":
        schema, url = "t_" + uuid.uuid4().hex[:16], POSTGRES_URL
        asyncio.run(_schema('CREATE SCHEMA "{schema}"', schema, migrate=True))
    try:
        with pytest.MonkeyPatch.context() as environ:
            for key in [key for key in os.environ if key.startswith("PHONEAUTH_")]:
                environ.delenv(key)
            settings = Settings(
                data_dir=folder / "data",
                database_url=url,
                database_schema=schema,
                secret_key=SecretStr("applications-test-secret"),
            )
        with deploy(settings) as deployed:
            yield deployed
    finally:
        if schema is not None:
            asyncio.run(_schema('DROP SCHEMA "{schema}" CASCADE', schema, migrate=False))


@pytest.fixture
def api(site: Deployment) -> Iterator[httpx.Client]:
    with local_http.client(base_url=site.url, headers=site.auth, timeout=60) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.text


def create(api: httpx.Client, **body: Any) -> dict[str, Any]:
    created = api.post(APPS, json={"name": "App", "type": "SPA", **body})
    assert created.status_code == 200, created.text
    application: dict[str, Any] = created.json()
    return application


def rows(site: Deployment, query: str, **parameters: Any) -> list[tuple[Any, ...]]:
    """What the database holds, read on a connection of the test's own."""
    settings = site.services.settings

    async def read() -> list[tuple[Any, ...]]:
        database = open_database(settings.resolved_database_url, schema=settings.database_schema)
        try:
            async with database.engine.begin() as connection:
                result = await connection.execute(text(query), parameters)
                return [tuple(row) for row in result]
        finally:
            await database.dispose()

    return asyncio.run(read())


# --- applications ----------------------------------------------------------------------------


def test_an_application_is_created_read_listed_changed_and_deleted(api: httpx.Client) -> None:
    before = int(datetime.now(UTC).timestamp() * 1000)
    spa = create(
        api,
        name="Shop",
        description="The web shop",
        oidcClientMetadata={
            "redirectUris": ["https://shop.example.com/callback"],
            "postLogoutRedirectUris": ["https://shop.example.com/"],
        },
        customData={"team": "web"},
    )
    assert set(spa) == {
        "tenantId", "id", "name", "description", "type", "oidcClientMetadata",
        "customClientMetadata", "protectedAppMetadata", "customData", "isThirdParty",
        "appLevelAccessControlEnabled", "createdAt", "secret",
    }  # fmt: skip
    assert len(spa["id"]) == 21
    assert spa["id"].isalnum()
    assert spa["id"].islower()
    assert (spa["tenantId"], spa["name"], spa["type"]) == ("default", "Shop", "SPA")
    assert spa["oidcClientMetadata"] == {
        "redirectUris": ["https://shop.example.com/callback"],
        "postLogoutRedirectUris": ["https://shop.example.com/"],
    }
    assert (spa["protectedAppMetadata"], spa["appLevelAccessControlEnabled"]) == (None, False)
    assert (spa["customClientMetadata"], spa["customData"]) == ({}, {"team": "web"})
    assert spa["secret"] is None  # public: no secret
    assert before <= spa["createdAt"] <= before + 60_000

    native = create(
        api,
        name="Phone app",
        type="Native",
        oidcClientMetadata={"redirectUris": ["com.example.app://callback"]},
        customClientMetadata={"isDeviceFlow": False, "rotateRefreshToken": True},
    )
    assert native["oidcClientMetadata"]["postLogoutRedirectUris"] == []
    assert native["customClientMetadata"] == {"isDeviceFlow": False, "rotateRefreshToken": True}
    web = create(api, name="Portal", type="Traditional", isThirdParty=True)
    assert len(web["secret"]) == 32

    read = api.get(f"{APPS}/{spa['id']}")
    assert read.status_code == 200
    assert read.json() == {key: value for key, value in spa.items() if key != "secret"}
    assert api.get(f"/t/default{APPS}/{spa['id']}").json()["id"] == spa["id"]

    listed = api.get(APPS)
    ids = [a["id"] for a in listed.json()]
    assert ids.index(web["id"]) < ids.index(native["id"]) < ids.index(spa["id"])  # newest first
    assert int(listed.headers["Total-Number"]) == len(ids)
    assert "Link" not in listed.headers
    assert all("secret" not in a for a in listed.json())
    kinds = api.get(APPS, params=[("types", "Native"), ("types", "Traditional")]).json()
    assert {a["type"] for a in kinds} == {"Native", "Traditional"}
    assert api.get(APPS, params={"types": "SAML"}).json() == []
    paged = api.get(APPS, params={"page": 2, "page_size": 1})
    assert [a["id"] for a in paged.json()] == [ids[1]]
    assert 'rel="next"' in paged.headers["Link"]
    assert_error(api.get(APPS, params={"types": "Robot"}), 400, "guard.invalid_input")
    assert_error(api.get(APPS, params={"page_size": 101}), 400, "guard.invalid_input")

    changed = api.patch(
        f"{APPS}/{spa['id']}",
        json={
            "name": "Shop 2",
            "description": None,
            "oidcClientMetadata": {"redirectUris": ["http://localhost:3000/callback"]},
            "customData": {"team": "shop"},
            "type": "SPA",  # the same type is no change
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Shop 2"
    assert changed.json()["description"] is None
    assert changed.json()["oidcClientMetadata"] == {
        "redirectUris": ["http://localhost:3000/callback"],
        "postLogoutRedirectUris": [],
    }
    assert api.get(f"{APPS}/{spa['id']}").json() == changed.json()
    unchanged = api.patch(f"{APPS}/{spa['id']}", json={})
    assert unchanged.json() == changed.json()
    assert_error(
        api.patch(f"{APPS}/{spa['id']}", json={"type": "Native"}), 400, "guard.invalid_input"
    )
    assert_error(api.patch(f"{APPS}/{spa['id']}", json={"name": None}), 400, "guard.invalid_input")

    assert api.delete(f"{APPS}/{spa['id']}").status_code == 204
    for answer in (
        api.get(f"{APPS}/{spa['id']}"),
        api.patch(f"{APPS}/{spa['id']}", json={"name": "x"}),
        api.delete(f"{APPS}/{spa['id']}"),
    ):
        assert_error(answer, 404, "entity.not_exists_with_id")


BAD_BODIES: list[tuple[dict[str, Any], int, str]] = [
    ({"type": "SPA"}, 400, "guard.invalid_input"),  # no name
    ({"name": "", "type": "SPA"}, 400, "guard.invalid_input"),
    ({"name": "x" * 257, "type": "SPA"}, 400, "guard.invalid_input"),
    ({"name": "A"}, 400, "guard.invalid_input"),  # no type
    ({"name": "A", "type": "Robot"}, 400, "guard.invalid_input"),
    ({"name": "A", "type": "SAML"}, 400, "application.saml.use_saml_app_api"),
    ({"name": "A", "type": "Protected"}, 400, "application.protected_app_metadata_is_required"),
    (
        {
            "name": "A",
            "type": "Protected",
            "protectedAppMetadata": {"subDomain": "a", "origin": "https://a.example.com"},
        },
        400,
        "application.protected_app_not_configured",
    ),
    (
        {"name": "A", "type": "MachineToMachine", "isThirdParty": True},
        400,
        "application.invalid_third_party_application_type",
    ),
    (
        {"name": "A", "type": "SPA", "customClientMetadata": {"isDeviceFlow": True}},
        422,
        "application.device_flow_native_only",
    ),
    (
        {"name": "A", "type": "SPA", "customClientMetadata": {"refreshTokenTtlInDays": 181}},
        400,
        "guard.invalid_input",
    ),
    ({"name": "A", "type": "SPA", "customData": {"k": "a\u0000b"}}, 400, "guard.invalid_input"),
    ({"name": "A", "type": "SPA", "oidcClientMetadata": None}, 400, "guard.invalid_input"),
] + [
    ({"name": "A", "type": "SPA", "oidcClientMetadata": {key: [uri]}}, 400, "guard.invalid_input")
    for key in ("redirectUris", "postLogoutRedirectUris")
    for uri in (
        "https://app.example.com/callback#top",  # a fragment
        "/callback",  # relative
        "https://*.example.com/callback",  # a wildcard
        "javascript:alert(1)",
        "myapp://callback",  # a custom scheme that is not a reverse domain
        "https:///callback",  # no host
        "https://user:pass@app.example.com/callback",
        "https://app.example.com/a/../callback",
        "https://app.example.com/call back",
        "",
    )
]


def test_bad_input_is_refused_with_a_stable_code(api: httpx.Client) -> None:
    for body, status, code in BAD_BODIES:
        assert_error(api.post(APPS, json=body), status, code)
    not_json = api.post(APPS, content=b"{", headers={"Content-Type": "application/json"})
    assert_error(not_json, 400, "guard.invalid_input")
    refused = api.post(
        APPS,
        json={"name": "A", "type": "SPA", "oidcClientMetadata": {"redirectUris": ["/cb"]}},
    )
    assert (
        refused.json()["details"]["errors"][0]["field"] == "body.oidcClientMetadata.redirectUris.0"
    )
    for path in ("nope", "%00", "x" * 300):
        assert_error(api.get(f"{APPS}/{path}"), 404, "entity.not_exists_with_id")
        assert_error(api.get(f"{APPS}/{path}/secrets"), 404, "entity.not_exists_with_id")
        assert_error(api.delete(f"{APPS}/{path}/roles/{ROLE}"), 404, "entity.not_exists_with_id")
    spa = create(api)
    bad_patch = api.patch(
        f"{APPS}/{spa['id']}", json={"oidcClientMetadata": {"redirectUris": ["ftp://x.example"]}}
    )
    assert_error(bad_patch, 400, "guard.invalid_input")
    with local_http.client(base_url=str(api.base_url), timeout=60) as anonymous:
        assert_error(anonymous.get(APPS), 401, "auth.unauthorized")
    # Each tenant sees its own applications only.
    assert api.post("/api/tenants", json={"id": "apps-other", "name": "Other"}).status_code == 201
    assert_error(api.get(f"/t/apps-other{APPS}/{spa['id']}"), 404, "entity.not_exists_with_id")
    other = api.post(f"/t/apps-other{APPS}", json={"name": "Theirs", "type": "Native"}).json()
    assert other["tenantId"] == "apps-other"
    assert other["id"] not in {a["id"] for a in api.get(APPS).json()}


# --- secrets ---------------------------------------------------------------------------------


def test_secrets_are_shown_once_and_kept_as_hashes(
    api: httpx.Client, site: Deployment, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    robot = create(api, name="Robot", type="MachineToMachine")
    default_secret = robot["secret"]
    assert len(default_secret) == 32
    secrets_path = f"{APPS}/{robot['id']}/secrets"
    [listed] = api.get(secrets_path).json()
    assert listed == {
        "tenantId": "default",
        "applicationId": robot["id"],
        "name": "Default secret",
        "value": None,
        "preview": default_secret[:4] + "…",
        "createdAt": listed["createdAt"],
        "expiresAt": None,
    }
    assert robot["createdAt"] <= listed["createdAt"] <= robot["createdAt"] + 60_000

    later = int(datetime.now(UTC).timestamp() * 1000) + 86_400_000
    made = api.post(secrets_path, json={"name": "CI", "expiresAt": later})
    assert made.status_code == 201, made.text
    second = made.json()
    assert (second["name"], second["expiresAt"], len(second["value"])) == ("CI", later, 32)
    assert second["preview"] == second["value"][:4] + "…"
    assert_error(api.post(secrets_path, json={"name": "CI"}), 422, "application.secret_name_exists")
    assert_error(
        api.post(secrets_path, json={"name": "old", "expiresAt": 1000}),
        400,
        "request.invalid_input",
    )
    assert_error(api.post(secrets_path, json={"name": ""}), 400, "guard.invalid_input")
    public = create(api, type="Native")
    assert_error(
        api.post(f"{APPS}/{public['id']}/secrets", json={"name": "x"}),
        422,
        "application.secret_not_allowed",
    )
    assert api.get(f"{APPS}/{public['id']}/secrets").json() == []
    assert_error(
        api.post(f"{APPS}/nope/secrets", json={"name": "x"}), 404, "entity.not_exists_with_id"
    )

    # No answer and no log line after creation holds a value; the database holds hashes.
    shown = [api.get(secrets_path), api.get(f"{APPS}/{robot['id']}"), api.get(APPS)]
    stored = rows(
        site,
        "SELECT name, secret_hash, preview FROM application_secrets WHERE application_id = :id",
        id=robot["id"],
    )
    assert sorted(name for name, _, _ in stored) == ["CI", "Default secret"]
    for value in (default_secret, second["value"]):
        assert all(value not in answer.text for answer in shown)
        assert value not in caplog.text
        assert all(value not in row_hash for _, row_hash, _ in stored)

    assert api.delete(f"{secrets_path}/CI").status_code == 204
    assert [s["name"] for s in api.get(secrets_path).json()] == ["Default secret"]
    assert_error(api.delete(f"{secrets_path}/CI"), 404, "entity.not_found")
    assert_error(api.delete(f"{APPS}/nope/secrets/CI"), 404, "entity.not_exists_with_id")


# --- roles -----------------------------------------------------------------------------------


def test_a_machine_to_machine_app_gets_the_management_api_role(api: httpx.Client) -> None:
    roles = api.get("/api/roles")
    assert roles.status_code == 200
    assert roles.headers["Total-Number"] == "1"
    [role] = roles.json()
    assert role["id"] == ROLE
    assert role["name"] == "Logto Management API access"
    assert (role["tenantId"], role["type"], role["isDefault"]) == (
        "default",
        "MachineToMachine",
        False,
    )
    assert role["description"]

    robot = create(api, name="Robot", type="MachineToMachine")
    path = f"{APPS}/{robot['id']}/roles"
    assert api.get(path).json() == []
    given = api.post(path, json={"roleIds": [ROLE]})
    assert given.status_code == 201, given.text
    assert given.json() == {"roleIds": [ROLE], "addedRoleIds": [ROLE]}
    assert api.post(path, json={"roleIds": [ROLE]}).json() == {
        "roleIds": [ROLE],
        "addedRoleIds": [],
    }
    held = api.get(path)
    assert held.json() == [role]
    assert held.headers["Total-Number"] == "1"
    assert_error(api.post(path, json={"roleIds": ["admin"]}), 404, "entity.not_exists_with_id")
    assert_error(api.post(path, json={"roleIds": [""]}), 400, "guard.invalid_input")
    assert_error(api.post(path, json={}), 400, "guard.invalid_input")

    spa = create(api)
    for answer in (
        api.get(f"{APPS}/{spa['id']}/roles"),
        api.post(f"{APPS}/{spa['id']}/roles", json={"roleIds": [ROLE]}),
        api.delete(f"{APPS}/{spa['id']}/roles/{ROLE}"),
    ):
        assert_error(answer, 422, "application.invalid_type")
    assert_error(
        api.post(f"{APPS}/nope/roles", json={"roleIds": [ROLE]}), 404, "entity.not_exists_with_id"
    )

    assert api.delete(f"{path}/{ROLE}").status_code == 204
    assert api.get(path).json() == []
    assert_error(api.delete(f"{path}/{ROLE}"), 404, "entity.not_found")


def test_deleting_an_application_deletes_what_belongs_to_it(
    api: httpx.Client, site: Deployment
) -> None:
    robot = create(api, name="Robot", type="MachineToMachine")
    api.post(f"{APPS}/{robot['id']}/secrets", json={"name": "second"})
    api.post(f"{APPS}/{robot['id']}/roles", json={"roleIds": [ROLE]})
    now = datetime.now(UTC)
    rows(
        site,
        "INSERT INTO oidc_authorization_requests "
        "(uid, tenant_id, application_id, parameters, created_at, expires_at) "
        "VALUES (:uid, 'default', :app, '{}', :now, :now) RETURNING uid",
        uid=uuid.uuid4().hex,
        app=robot["id"],
        now=now,
    )
    assert api.delete(f"{APPS}/{robot['id']}").status_code == 204
    for table in ("application_secrets", "application_roles", "oidc_authorization_requests"):
        left = rows(site, f"SELECT 1 FROM {table} WHERE application_id = :id", id=robot["id"])  # noqa: S608 - our table names
        assert left == [], table


def test_logtos_machine_to_machine_flow_gets_a_management_api_token(api: httpx.Client) -> None:
    """logto-parity §8.3 through these routes: make the app, give it the role, ask /oidc/token
    with its secret; a deleted secret or app authenticates no more."""
    robot = create(api, name="Robot", type="MachineToMachine")
    form = {
        "grant_type": "client_credentials",
        "resource": "https://default.logto.app/api",
        "scope": "all",
    }

    def token(secret: str, client_id: str = robot["id"]) -> httpx.Response:
        return api.post("/oidc/token", data=form, auth=(client_id, secret))

    assert token(robot["secret"]).json()["error"] == "invalid_target"  # no role yet
    api.post(f"{APPS}/{robot['id']}/roles", json={"roleIds": [ROLE]})
    issued = token(robot["secret"])
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"].lower() == "bearer"
    rotated = api.post(f"{APPS}/{robot['id']}/secrets", json={"name": "rotated"}).json()["value"]
    assert token(rotated).status_code == 200
    api.delete(f"{APPS}/{robot['id']}/secrets/Default secret")
    assert token(robot["secret"]).json()["error"] == "invalid_client"
    assert token(rotated).status_code == 200
    api.delete(f"{APPS}/{robot['id']}")
    assert token(rotated).json()["error"] == "invalid_client"
