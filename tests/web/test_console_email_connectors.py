"""The console's Email connector beside the SMS one: nested SMTP settings whose secrets never
come back to the page, the email test send, the delete guard and the persistent warning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from tests.smtp_servers import smtp_server
from tests.web.test_console_pages import browser, signed_in

from phoneauth.connectors.templates import default_email_templates
from phoneauth.domain.connector_configs import SECRET_MASK
from phoneauth.wiring import Services

__all__ = ["browser", "signed_in"]  # fixtures used here

SMTP = "simple-mail-transfer-protocol"
PASSWORD = "hunter2-never-shown"


def smtp_form(csrf: str, port: int, **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "action": "save",
        "cfg.host": "127.0.0.1",
        "cfg.port": str(port),
        "cfg.auth": json.dumps({"type": "login", "user": "mailer", "pass": PASSWORD}),
        "cfg.fromEmail": "no-reply@example.com",
        "cfg.templates": json.dumps(default_email_templates()),
        "cfg.tls": json.dumps({"rejectUnauthorized": True}),
        **extra,
    }


def editor(page: str, key: str) -> str:
    found = re.search(rf'<textarea id="cfg.{key}"[^>]*>([^<]*)</textarea>', page)
    assert found is not None, key
    return found.group(1)


async def stored_email_config(services: Services) -> dict[str, object]:
    found = await services.connectors.saved_config(
        "default", reveal_secrets=True, connector_type="Email"
    )
    assert found is not None
    return found[1]


async def test_nested_smtp_settings_are_saved_and_the_password_never_comes_back(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    answer = await browser.post(f"/console/connectors/new/{SMTP}", data=smtp_form(signed_in, 2525))
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].endswith("/console/connectors?done=saved-email")
    config = await stored_email_config(services)
    assert config["auth"] == {"type": "login", "user": "mailer", "pass": PASSWORD}
    assert config["tls"] == {"rejectUnauthorized": True}

    [connector] = await services.connectors.list("default")
    page = (await browser.get(f"/console/connectors/{connector.id}")).text
    assert PASSWORD not in page
    auth = json.loads(editor(page, "auth").replace("&#34;", '"').replace("&quot;", '"'))
    assert auth == {"type": "login", "user": "mailer", "pass": SECRET_MASK}

    # Posted back as shown (the mask inside), the saved password stays.
    form = smtp_form(signed_in, 2526)
    form["cfg.auth"] = json.dumps(auth)
    answer = await browser.post(f"/console/connectors/{connector.id}", data=form)
    assert answer.status_code == 303, answer.text
    config = await stored_email_config(services)
    assert config["port"] == 2526
    assert config["auth"] == {"type": "login", "user": "mailer", "pass": PASSWORD}


async def test_a_refused_form_does_not_echo_the_typed_password(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    form = smtp_form(signed_in, 2525, **{"cfg.fromEmail": "not an address"})
    answer = await browser.post(f"/console/connectors/new/{SMTP}", data=form)
    assert answer.status_code == 422
    assert PASSWORD not in answer.text
    assert "Secrets are never sent back to the browser" in answer.text
    assert "From email" in answer.text  # the error names the field by its label

    form = smtp_form(signed_in, 2525, **{"cfg.auth": '{"user": "mailer", "pass": "' + PASSWORD})
    answer = await browser.post(f"/console/connectors/new/{SMTP}", data=form)
    assert answer.status_code == 422
    assert PASSWORD not in answer.text
    assert "This is not valid JSON" in answer.text


async def test_a_new_smtp_form_shows_no_sample_password(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    page = (await browser.get(f"/console/connectors/new/{SMTP}")).text
    assert "&lt;password&gt;" not in page
    assert 'name="test_email"' in page
    assert 'name="test_phone"' not in page
    assert "contentType" in page


async def test_the_list_holds_both_kinds_and_each_set_up_offers_its_own(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    page = (await browser.get("/console/connectors")).text
    assert "No SMS connector yet" in page
    assert "No Email connector yet" in page
    emails = (await browser.get("/console/connectors/new?type=email")).text
    offered = set(re.findall(r'data-provider="([^"]+)"', emails))
    assert offered == {SMTP, "http-email", "outbox-email"}
    sms = set(
        re.findall(r'data-provider="([^"]+)"', (await browser.get("/console/connectors/new")).text)
    )
    assert "outbox-sms" in sms
    assert not sms & offered

    tenant = await services.tenants.get("default")
    await services.connectors.create(tenant, "outbox-sms", {})
    form = {
        "csrf": signed_in,
        "action": "save",
        "cfg.templates": json.dumps(default_email_templates()),
    }
    answer = await browser.post("/console/connectors/new/outbox-email", data=form)
    assert answer.status_code == 303, answer.text
    kinds = sorted(c.factory.id for c in await services.connectors.list("default"))
    assert kinds == ["outbox-email", "outbox-sms"]
    page = (await browser.get("/console/connectors?done=saved-email")).text
    assert "Development email outbox" in page
    assert "Development outbox" in page
    assert "Saved. The Email connector sends the next email." in page


async def test_the_email_test_send_reaches_a_real_smtp_server(
    browser: httpx.AsyncClient, signed_in: str, tmp_path: Path
) -> None:
    with smtp_server() as server:
        form = smtp_form(signed_in, server.port, action="test", test_email="jane@example.com")
        form["cfg.auth"] = json.dumps({"type": "login"})
        answer = await browser.post(f"/console/connectors/new/{SMTP}", data=form)
        assert answer.status_code == 200
        assert "data-test-ok" in answer.text, answer.text
        [got] = server.received
        assert got.rcpt_tos == ["jane@example.com"]
        assert "000000" in got.message.get_content()

    bad = smtp_form(signed_in, 2525, action="test", test_email="not-an-address")
    answer = await browser.post(f"/console/connectors/new/{SMTP}", data=bad)
    assert "Enter an email address such as jane@example.com" in answer.text


async def test_deleting_the_email_connector_names_the_email_settings_and_warns_after(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    tenant = await services.tenants.get("default")
    await services.connectors.create(tenant, "outbox-sms", {})
    email = await services.connectors.create(tenant, "outbox-email", {})
    await services.sign_in_experience.update(
        "default",
        {
            "sign_in": {
                "methods": [
                    {"identifier": "phone", "password": False, "verificationCode": True},
                    {"identifier": "email", "password": False, "verificationCode": True},
                ]
            }
        },
        services.connectors,
    )
    page = (await browser.get("/console/connectors")).text
    assert "data-email-warning" not in page

    page = (await browser.get(f"/console/connectors/{email.id}/delete")).text
    assert "This Email connector is in use" in page
    assert "Sign-in by email address and verification code" in page
    refused = await browser.post(f"/console/connectors/{email.id}/delete", data={"csrf": signed_in})
    assert refused.status_code == 409
    forced = await browser.post(
        f"/console/connectors/{email.id}/delete", data={"csrf": signed_in, "force": "true"}
    )
    assert forced.status_code == 303
    page = (await browser.get("/console/connectors")).text
    assert "data-email-warning" in page
    assert "End users cannot get codes by email." in page
    assert "sign-in with a code by email" in page
    assert "data-sms-warning" not in page
    assert "Development outbox" in page  # the SMS connector stays
