"""Attacks on the console's door, against a real server: taking the first admin account without
the setup token, and posting console forms from another site."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment, deploy

from phoneauth.settings import Settings

PASSWORD = "console password 1"
TOKEN = re.compile(r"\bsetup_[A-Za-z0-9_-]{32,}")
ATTACKER = "https://attacker.example"


def setup_token_from_cli(settings: Settings) -> str:
    """`python -m phoneauth admin setup-token` with the server's PHONEAUTH_* settings."""
    done = run_cli(settings)
    assert done.returncode == 0, done.stderr
    [token] = TOKEN.findall(done.stdout)
    return token


def run_cli(settings: Settings) -> subprocess.CompletedProcess[str]:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PHONEAUTH_DATA_DIR": str(settings.data_dir),
        "PHONEAUTH_DATABASE_URL": settings.resolved_database_url,
    }
    if settings.database_schema:
        environment["PHONEAUTH_DATABASE_SCHEMA"] = settings.database_schema
    if settings.secret_key:
        environment["PHONEAUTH_SECRET_KEY"] = settings.secret_key.get_secret_value()
    return subprocess.run(
        [sys.executable, "-m", "phoneauth", "admin", "setup-token"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def browser(deployment: Deployment) -> httpx.Client:
    """A cookie jar on the server, as a browser has one; redirects are looked at, not followed."""
    return local_http.client(base_url=deployment.url, timeout=30)


def create_admin(
    client: httpx.Client, token: str | None, headers: dict[str, str] | None = None
) -> httpx.Response:
    page = client.get("/console/setup", follow_redirects=True)  # to sign-in once an admin exists
    form = {"csrf": csrf_of(page.text), "username": "owner", "password": PASSWORD}
    form["password_again"] = PASSWORD
    if token is not None:
        form["setup_token"] = token
    return client.post("/console/setup", data=form, headers=headers)


def has_admin(deployment: Deployment) -> bool:
    """Seen from outside: while no admin exists, the sign-in page sends everyone to set-up."""
    with browser(deployment) as client:
        return client.get("/console/sign-in").status_code == 200


def assert_refused_page(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert (
        re.search(r"console\.(invalid_setup_token|admin_exists|foreign_origin)", response.text)
        is None
    )
    assert "Traceback" not in response.text


# --- the first admin ---------------------------------------------------------------------------


def test_the_first_admin_cannot_be_taken_without_the_setup_token(
    deployment: Deployment, settings: Settings
) -> None:
    with browser(deployment) as attacker:
        assert_refused_page(create_admin(attacker, None), 403, "setup token is missing or wrong")
        assert_refused_page(create_admin(attacker, ""), 403, "setup token is missing or wrong")
        guessed = "setup_" + "A" * 32
        assert_refused_page(create_admin(attacker, guessed), 403, "setup token is missing or wrong")
        assert all(cookie.name != "phoneauth_console" for cookie in attacker.cookies.jar)
    assert not has_admin(deployment)

    token = setup_token_from_cli(settings)
    with browser(deployment) as owner:
        created = create_admin(owner, token)
        assert (created.status_code, created.headers["location"]) == (303, "/console/connectors")
        assert owner.get("/console/connectors").status_code == 200  # signed in
    assert has_admin(deployment)

    with browser(deployment) as attacker:  # the token was used up with the admin's creation
        again = create_admin(attacker, token)
        assert_refused_page(again, 409, "Sign in with it.")
    no_more = run_cli(settings)
    assert no_more.returncode == 1
    assert "already exists" in no_more.stderr + no_more.stdout
    assert TOKEN.search(no_more.stdout + no_more.stderr) is None


def test_a_new_token_from_the_cli_replaces_the_last(
    deployment: Deployment, settings: Settings
) -> None:
    first = setup_token_from_cli(settings)
    second = setup_token_from_cli(settings)
    assert first != second
    with browser(deployment) as client:
        assert_refused_page(create_admin(client, first), 403, "setup token is missing or wrong")
        assert not has_admin(deployment)
        created = create_admin(client, f" {second}\n")  # pasted with blanks around it
        assert created.status_code == 303


def test_the_first_start_prints_the_token_once_and_every_instance_accepts_it(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with deploy(settings):
        printed = capsys.readouterr().out
    [token] = TOKEN.findall(printed)
    assert "/console/setup" in printed
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() not in printed  # not the master secret
    # Restarted, and a second instance on the same database: neither prints a token, and the
    # printed one, stored hashed in the database, works at the second.
    with deploy(settings) as restarted, deploy(settings) as other:
        assert TOKEN.search(capsys.readouterr().out) is None
        with browser(other) as client:
            assert create_admin(client, token).status_code == 303
        assert has_admin(restarted)
    with deploy(settings):
        assert TOKEN.search(capsys.readouterr().out) is None


# With `phoneauth serve --workers 2`, the token printed once is taken at any worker:
# tests/test_serve_workers.py, on the servers that module shares.


# --- forms from another site -------------------------------------------------------------------


def setup_token(deployment: Deployment) -> str:
    """A setup token from the server's own service: what the command line stores (the tests
    above run the command; these are about the forms, and a command costs seconds of CPU)."""
    token: str = deployment.run(deployment.services.console.setup_tokens.issue())
    return token


@contextmanager
def signed_in(deployment: Deployment) -> Iterator[tuple[httpx.Client, str]]:
    """A browser with the admin signed in, and its CSRF token."""
    with browser(deployment) as client:
        assert create_admin(client, setup_token(deployment)).status_code == 303
        yield client, csrf_of(client.get("/console/tenants").text)


def tenant_ids(deployment: Deployment) -> set[str]:
    with local_http.client(base_url=deployment.url, headers=deployment.auth, timeout=30) as api:
        return {tenant["id"] for tenant in api.get("/api/tenants").json()}


FOREIGN = [
    {"Origin": ATTACKER},
    {"Origin": "null"},
    {"Referer": f"{ATTACKER}/console/tenants"},
    {"Origin": ATTACKER, "Referer": "{own}/console/tenants"},  # Origin decides
]


def test_a_console_form_from_another_site_is_refused(deployment: Deployment) -> None:
    with signed_in(deployment) as (client, csrf):
        form = {"csrf": csrf, "id": "evil", "name": "Evil", "kind": "development"}
        for foreign in FOREIGN:
            headers = {name: value.format(own=deployment.url) for name, value in foreign.items()}
            refused = client.post("/console/tenants", data=form, headers=headers)
            assert_refused_page(refused, 403, "sent from another site")
            assert "evil" not in tenant_ids(deployment)
            signed_out = client.post("/console/sign-out", data={"csrf": csrf}, headers=headers)
            assert_refused_page(signed_out, 403, "sent from another site")
            assert client.get("/console/tenants").status_code == 200  # still signed in

        same = {"Origin": deployment.url, "Referer": f"{deployment.url}/console/tenants"}
        created = client.post("/console/tenants", data=form, headers=same)
        assert (created.status_code, created.headers["location"]) == (
            303,
            "/console/tenants?done=created",
        )
        assert "evil" in tenant_ids(deployment)
        no_header = {"csrf": csrf, "id": "plain", "name": "Plain", "kind": "development"}
        assert client.post("/console/tenants", data=no_header).status_code == 303  # an old client
    # A foreign Origin is refused by the console's forms, not by the API (keys, not cookies):
    with local_http.client(base_url=deployment.url, headers=deployment.auth, timeout=30) as api:
        made = api.post(
            "/api/tenants",
            json={"id": "acme", "name": "Acme", "kind": "development"},
            headers={"Origin": ATTACKER},
        )
    assert made.status_code == 201, made.text


def test_the_first_admin_and_sign_in_forms_refuse_other_sites_too(deployment: Deployment) -> None:
    token = setup_token(deployment)
    with browser(deployment) as client:
        refused = create_admin(client, token, headers={"Origin": ATTACKER})
        assert_refused_page(refused, 403, "sent from another site")
        assert not has_admin(deployment)
        assert create_admin(client, token, headers={"Origin": deployment.url}).status_code == 303
    with browser(deployment) as client:
        page = client.get("/console/sign-in")
        form = {"csrf": csrf_of(page.text), "username": "owner", "password": PASSWORD}
        login_csrf = client.post("/console/sign-in", data=form, headers={"Origin": ATTACKER})
        assert_refused_page(login_csrf, 403, "sent from another site")
        assert all(cookie.name != "phoneauth_console" for cookie in client.cookies.jar)
        own = client.post("/console/sign-in", data=form, headers={"Origin": deployment.url})
        assert own.status_code == 303


def test_behind_a_proxy_the_public_url_is_the_consoles_own_origin(settings: Settings) -> None:
    public = settings.model_copy(update={"public_url": "https://id.example.com"})
    with deploy(public) as deployment:
        with signed_in(deployment) as (client, csrf):
            form = {"csrf": csrf, "id": "proxied", "name": "Proxied", "kind": "development"}
            for other in ("https://other.example.com", "http://id.example.com"):
                refused = client.post("/console/tenants", data=form, headers={"Origin": other})
                assert refused.status_code == 403
            made = client.post(
                "/console/tenants", data=form, headers={"Origin": "https://id.example.com"}
            )
            assert made.status_code == 303
        assert "proxied" in tenant_ids(deployment)
