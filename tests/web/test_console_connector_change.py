"""Changing the SMS connector in the console: what is replaced, and keeping the templates where
the new provider reads them; the template rules the editor checks against."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.web.test_console_pages import browser, signed_in

from phoneauth.connectors.registry import default_registry
from phoneauth.domain.connector_configs import SECRET_MASK
from phoneauth.domain.connector_management import ManagedConnector
from phoneauth.web.console.connector_change import describe_replacement
from phoneauth.web.console.template_rules import template_rules
from phoneauth.wiring import Services

__all__ = ["browser", "signed_in"]  # fixtures used here

TWILIO = "twilio-short-message-service"
ALIYUN = "aliyun-short-message-service"
TENCENT = "tencent-short-message-service"
TEXTS = [
    {"usageType": "Generic", "content": "Your Rocket code is {{code}}"},
    {"usageType": "SignIn", "content": "Sign in to Rocket with {{code}}"},
]
CODES = [{"usageType": "Generic", "templateCode": "1234567"}]


def saved(factory_id: str, config: dict[str, Any]) -> ManagedConnector:
    now = datetime.now(UTC)
    factory = default_registry().get(factory_id)
    return ManagedConnector("c1", "Sms", factory, config, now, now)


def twilio_config(templates: list[Any]) -> dict[str, Any]:
    return {
        "accountSID": "AC1",
        "authToken": SECRET_MASK,
        "fromMessagingServiceSID": "MG1",
        "templates": templates,
    }


def test_texts_move_between_providers_that_render_text() -> None:
    change = describe_replacement(saved("outbox-sms", {"templates": TEXTS}), _f("vonage-sms"))
    assert change.keepable
    assert [row.usage_type for row in change.templates] == ["Generic", "SignIn"]
    assert change.templates[0].text == "Your Rocket code is {{code}}"


def test_texts_cannot_become_template_codes() -> None:
    change = describe_replacement(saved(TWILIO, twilio_config(TEXTS)), _f(ALIYUN))
    assert not change.keepable
    assert "message texts cannot be kept" in change.reason


def test_template_codes_stay_with_their_provider_only() -> None:
    tencent = {"accessKeyId": "id", "accessKeySecret": SECRET_MASK, "templates": CODES}
    assert not describe_replacement(saved(TENCENT, tencent), _f(ALIYUN)).keepable
    assert "approved at Tencent" in describe_replacement(saved(TENCENT, tencent), _f(TWILIO)).reason
    assert describe_replacement(saved(TENCENT, tencent), _f(TENCENT)).keepable


def test_templates_the_new_model_refuses_are_not_kept() -> None:
    broken = [{"usageType": "Generic", "content": "x" * 5000}]
    change = describe_replacement(saved("outbox-sms", {"templates": broken}), _f(TWILIO))
    assert not change.keepable
    assert "do not fit Twilio" in change.reason


def test_the_replaced_settings_are_listed_and_secrets_stay_hidden() -> None:
    change = describe_replacement(saved(TWILIO, twilio_config(TEXTS)), _f("vonage-sms"))
    shown = {row.label: row.value for row in change.settings}
    assert shown["Messaging Service SID"] == "MG1"
    assert [row.value for row in change.settings if row.secret] == ["a saved secret"]
    assert SECRET_MASK not in shown.values()


@pytest.mark.parametrize(
    ("factory_id", "shape"),
    [(TWILIO, "content"), ("outbox-sms", "content"), (ALIYUN, "code"), (TENCENT, "code")],
)
def test_the_rules_name_the_template_shape(factory_id: str, shape: str) -> None:
    rules = template_rules(_f(factory_id))
    assert rules is not None
    assert rules.shape == shape
    assert rules.unique
    assert rules.schema["type"] == "array"
    assert "UsageType" in rules.schema["$defs"]


def test_a_connector_without_templates_has_no_rules() -> None:
    assert template_rules(_f("http-sms")) is None


def _f(factory_id: str) -> Any:
    return default_registry().get(factory_id)


# --- over ASGI, both databases ------------------------------------------------------------------


def twilio_form(csrf: str, templates: list[Any], **extra: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "action": "save",
        "cfg.accountSID": "AC1",
        "cfg.authToken": "token",
        "cfg.fromMessagingServiceSID": "MG1",
        "cfg.templates": json.dumps(templates),
        **extra,
    }


async def test_the_page_says_what_is_replaced_and_offers_to_keep_the_templates(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    tenant = await services.tenants.get("default")
    await services.connectors.create(tenant, "outbox-sms", {"templates": TEXTS})
    page = (await browser.get(f"/console/connectors/new/{TWILIO}")).text
    assert "Saving replaces Development outbox" in page
    assert "Sign in to Rocket with {{code}}" in page
    assert re.search(r'<input type="checkbox" name="keep_templates" checked', page)


async def test_kept_templates_are_the_saved_ones(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    tenant = await services.tenants.get("default")
    await services.connectors.create(tenant, "outbox-sms", {"templates": TEXTS})
    other = [{"usageType": "Generic", "content": "New {{code}}"}]
    form = twilio_form(signed_in, other, keep_templates="on")
    answer = await browser.post(f"/console/connectors/new/{TWILIO}", data=form)
    assert answer.status_code == 303, answer.text
    [connector] = await services.connectors.list("default")
    assert connector.factory.id == TWILIO
    assert connector.config["templates"] == TEXTS


async def test_unticked_the_editor_templates_are_saved(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    tenant = await services.tenants.get("default")
    await services.connectors.create(tenant, "outbox-sms", {"templates": TEXTS})
    other = [{"usageType": "Generic", "content": "New {{code}}"}]
    answer = await browser.post(
        f"/console/connectors/new/{TWILIO}", data=twilio_form(signed_in, other)
    )
    assert answer.status_code == 303, answer.text
    [connector] = await services.connectors.list("default")
    assert connector.config["templates"] == other


async def test_keep_is_ignored_where_the_templates_do_not_fit(
    browser: httpx.AsyncClient, signed_in: str, services: Services
) -> None:
    tenant = await services.tenants.get("default")
    await services.connectors.create(tenant, "outbox-sms", {"templates": TEXTS})
    page = (await browser.get(f"/console/connectors/new/{ALIYUN}")).text
    assert 'name="keep_templates"' not in page
    assert "message texts cannot be kept" in page
    form = {
        "csrf": signed_in,
        "action": "save",
        "keep_templates": "on",
        "cfg.accessKeyId": "id",
        "cfg.accessKeySecret": "secret",
        "cfg.signName": "Rocket",
        "cfg.templates": json.dumps(CODES),
    }
    answer = await browser.post(f"/console/connectors/new/{ALIYUN}", data=form)
    assert answer.status_code == 303, answer.text
    [connector] = await services.connectors.list("default")
    assert connector.config["templates"] == [{**CODES[0], "type": 2}]


async def test_code_providers_start_without_made_up_codes_and_a_hint_of_their_own(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    for factory_id in (ALIYUN, TENCENT):
        page = (await browser.get(f"/console/connectors/new/{factory_id}")).text
        editor = re.search(r'<textarea id="cfg.templates"[^>]*>([^<]*)</textarea>', page)
        assert editor is not None
        assert editor.group(1).strip() == ""
        assert "templateCode" in editor.group(0)  # the placeholder shows the shape
        assert "&lt;template-code&gt;" not in page
        assert "{{code}}" not in page
        assert "passes the verification code to it as a parameter" in page
        assert page.count("is the fallback") == 1


async def test_text_providers_show_the_usage_type_help_once(
    browser: httpx.AsyncClient, signed_in: str
) -> None:
    page = (await browser.get(f"/console/connectors/new/{TWILIO}")).text
    assert page.count("is the fallback") == 1
    assert "is replaced by the verification code" in page
    rules = re.search(r'<script type="application/json" id="template-rules">(.*?)</script>', page)
    assert rules is not None
    assert json.loads(rules.group(1))["shape"] == "content"
