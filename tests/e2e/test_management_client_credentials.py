"""The Management API called with a machine-to-machine app's access token (client credentials,
as in Logto) over real HTTP on SQLite and PostgreSQL: one server per database for the module.

Tokens come from `/oidc/token` through a real OAuth 2 client library; tokens the provider would
never issue (expired, without the role, without scope `all`) are signed with the tenant's own
key through `OidcTokens`, so that only the claim under test is wrong.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.oidc_support import (
    AUTHLIB_WARNINGS,
    MANAGEMENT,
    AsyncOAuth2Client,
    Provider,
    new_phone,
    serve_provider,
)

from phoneauth.domain.applications import MANAGEMENT_API_ACCESS_ROLE_ID

pytestmark = pytest.mark.filterwarnings(AUTHLIB_WARNINGS)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def provider(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    with serve_provider(request.param, tmp_path_factory.mktemp("m2m")) as served:
        yield served


async def client_credentials(
    provider: Provider,
    client_id: str,
    secret: str,
    *,
    resource: str = MANAGEMENT,
    tenant_path: str = "",
) -> str:
    """A token from the token endpoint, asked as a Logto script asks it (scope `all`)."""
    scope = {"scope": "all"} if resource.endswith(".logto.app/api") else {}
    async with AsyncOAuth2Client(client_id, secret) as client:
        token: dict[str, Any] = await client.fetch_token(
            f"{provider.url}{tenant_path}/oidc/token",
            grant_type="client_credentials",
            resource=resource,
            **scope,
        )
    return str(token["access_token"])


def signed(
    provider: Provider,
    client_id: str,
    *,
    scope: str = "all",
    ttl_seconds: int = 600,
    subject: str | None = None,
) -> str:
    """A token signed by the default tenant's key for the Management API."""
    tokens = provider.deployment.services.oidc.tokens
    made = tokens.access_token(
        "default",
        subject=subject or client_id,
        client_id=client_id,
        audience=MANAGEMENT,
        scope=scope,
        ttl_seconds=ttl_seconds,
    )
    return provider.deployment.run(made)


async def robot(provider: Provider, tenant_path: str = "") -> tuple[str, str]:
    """A new MachineToMachine app holding the Management API access role, made as Logto's
    guide makes one (over the Management API with the admin key): its id and secret."""
    async with provider.admin() as admin:
        made = await admin.post(
            f"{tenant_path}/api/applications", json={"name": "Robot", "type": "MachineToMachine"}
        )
        assert made.status_code == 200, made.text
        app_id, secret = made.json()["id"], made.json()["secret"]
        given = await admin.post(
            f"{tenant_path}/api/applications/{app_id}/roles",
            json={"roleIds": [MANAGEMENT_API_ACCESS_ROLE_ID]},
        )
        assert given.status_code == 201, given.text
    return str(app_id), str(secret)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def call(
    provider: Provider, token: str, method: str = "GET", path: str = "/api/users", **kwargs: Any
) -> httpx.Response:
    async with provider.browser() as http:
        return await http.request(method, path, headers=bearer(token), **kwargs)


def assert_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


async def test_a_token_calls_management_routes(provider: Provider) -> None:
    token = await client_credentials(provider, provider.m2m, provider.m2m_secret)
    users = await call(provider, token)
    assert users.status_code == 200, users.text
    assert "Total-Number" in users.headers
    per_tenant = await call(provider, token, path="/t/default/api/users")
    assert per_tenant.status_code == 200, per_tenant.text
    sent = await call(
        provider, token, "POST", "/api/verification-codes", json={"phone": new_phone()}
    )
    assert sent.status_code == 204, sent.text
    resources = await call(provider, token, path="/api/resources")
    assert resources.json()[0]["id"] == "management-api"
    # An app manages its own tenant only: it neither makes tenants nor sees others.
    made = await call(provider, token, "POST", "/api/tenants", json={"id": "nope", "name": "N"})
    assert_error(made, 403, "auth.forbidden")
    listed = await call(provider, token, path="/api/tenants")
    assert [tenant["id"] for tenant in listed.json()] == ["default"]


async def test_tokens_the_app_may_not_use_are_refused(provider: Provider) -> None:
    # Valid signature and audience, yet the app lacks the role, or the token the scope.
    assert_error(await call(provider, signed(provider, provider.lonely_m2m)), 403, "auth.forbidden")
    assert_error(
        await call(provider, signed(provider, provider.m2m, scope="")), 403, "auth.forbidden"
    )
    # A user's token (sub is not the client) never manages, even with scope `all`.
    as_user = signed(provider, provider.m2m, subject="someuser")
    assert_error(await call(provider, as_user), 403, "auth.forbidden")
    # Not MachineToMachine: a web app cannot hold the Management API role.
    assert_error(await call(provider, signed(provider, provider.web)), 403, "auth.forbidden")


async def test_expired_forged_and_foreign_tokens_are_unauthorized(provider: Provider) -> None:
    expired = signed(provider, provider.m2m, ttl_seconds=-1)
    assert_error(await call(provider, expired), 401, "auth.unauthorized")
    good = await client_credentials(provider, provider.m2m, provider.m2m_secret)
    header, payload, signature = good.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    assert_error(await call(provider, forged), 401, "auth.unauthorized")
    assert_error(await call(provider, "a.b.c"), 401, "auth.unauthorized")
    # A token for another API of the tenant (aud is that API, not the Management API).
    indicator = f"https://api-{secrets.token_hex(4)}.example.com"
    async with provider.admin() as admin:
        made = await admin.post("/api/resources", json={"name": "Other", "indicator": indicator})
        assert made.status_code == 201, made.text
    other = await client_credentials(
        provider, provider.m2m, provider.m2m_secret, resource=indicator
    )
    assert_error(await call(provider, other), 401, "auth.unauthorized")


async def test_a_token_of_one_tenant_never_manages_another(provider: Provider) -> None:
    tenant = "m" + secrets.token_hex(4)
    async with provider.admin() as admin:
        made = await admin.post("/api/tenants", json={"id": tenant, "name": "Theirs"})
        assert made.status_code == 201, made.text
    theirs_id, theirs_secret = await robot(provider, f"/t/{tenant}")
    theirs = await client_credentials(
        provider,
        theirs_id,
        theirs_secret,
        resource=f"https://{tenant}.logto.app/api",
        tenant_path=f"/t/{tenant}",
    )
    at_home = await call(provider, theirs, path=f"/t/{tenant}/api/users")
    assert at_home.status_code == 200, at_home.text
    assert_error(await call(provider, theirs), 401, "auth.unauthorized")
    assert_error(
        await call(provider, theirs, path="/t/default/api/users"), 401, "auth.unauthorized"
    )
    ours = await client_credentials(provider, provider.m2m, provider.m2m_secret)
    assert_error(
        await call(provider, ours, path=f"/t/{tenant}/api/users"), 401, "auth.unauthorized"
    )


async def test_taking_the_role_or_deleting_the_app_stops_its_token_at_once(
    provider: Provider,
) -> None:
    first_id, first_secret = await robot(provider)
    second_id, second_secret = await robot(provider)
    first = await client_credentials(provider, first_id, first_secret)
    second = await client_credentials(provider, second_id, second_secret)
    assert (await call(provider, first)).status_code == 200
    assert (await call(provider, second)).status_code == 200
    async with provider.admin() as admin:
        taken = await admin.delete(
            f"/api/applications/{first_id}/roles/{MANAGEMENT_API_ACCESS_ROLE_ID}"
        )
        assert taken.status_code == 204, taken.text
        assert_error(await call(provider, first), 403, "auth.forbidden")
        deleted = await admin.delete(f"/api/applications/{second_id}")
        assert deleted.status_code == 204, deleted.text
        assert_error(await call(provider, second), 401, "auth.unauthorized")
    # Admin keys are untouched by all this.
    async with provider.admin() as admin:
        assert (await admin.get("/api/users")).status_code == 200


async def test_no_token_reaches_the_log(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await client_credentials(provider, provider.m2m, provider.m2m_secret)
    expired = signed(provider, provider.m2m, ttl_seconds=-1)
    assert (await call(provider, token)).status_code == 200
    assert (await call(provider, expired)).status_code == 401
    assert (await call(provider, signed(provider, provider.lonely_m2m))).status_code == 403
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = "\n".join(record.getMessage() for record in server_side)
    for secret in (token, expired, provider.m2m_secret):
        assert secret not in logged
        assert secret.split(".")[-1] not in logged  # not even the signature
