"""Console: Connectors: the active SMS connector, set up, test, change and delete it.

Every change goes through the same domain calls as the Management API: `create` (which replaces
the tenant's SMS connector atomically), `update`, `test` (the unsaved config, Generic template,
code 000000) and `connector_removal.delete_connector` (the sign-in experience guard).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2.utils import htmlsafe_json_dumps

from phoneauth.connectors import ConnectorFactory, InvalidConfigError, UsageType
from phoneauth.connectors.providers.outbox import FACTORY as OUTBOX_FACTORY
from phoneauth.domain import connector_removal
from phoneauth.domain.connector_management import (
    DEVELOPMENT_TAG,
    FactoryNotFoundError,
    ManagedConnector,
)
from phoneauth.domain.sign_in_experience import ConnectorInUseError
from phoneauth.errors import PhoneauthError
from phoneauth.web.console.connector_change import (
    KEEP_FIELD,
    Replacement,
    describe_replacement,
    kept_templates,
)
from phoneauth.web.console.connector_forms import (
    FormField,
    attach_errors,
    config_from_form,
    form_fields,
    labels_of,
    readme_html,
)
from phoneauth.web.console.support import (
    PREFIX,
    Console,
    ConsoleDep,
    ConsoleRoute,
    FormDep,
    render,
    wants_fragment,
)
from phoneauth.web.console.template_rules import TEMPLATES_KEY, template_rules
from phoneauth.web.human_messages import admin_sentence, describe, setting_in_words
from phoneauth.web.phone_input import countries, default_region, dialled_number

router = APIRouter(route_class=ConsoleRoute)

NOTICES = {
    "saved": "Saved. The connector sends the next code.",
    "deleted": "The connector was deleted.",
}


FIX_FIELDS_FIRST = "Fix the fields marked in red above first: the test uses this form's values."
"""The test result sits under the fields, so it points up to them."""


@dataclass(frozen=True, slots=True)
class TestOutcome:
    ok: bool
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    provider: str | None = None
    outbox_text: str | None = None


@router.get("/connectors")
async def connectors_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    services, tenant = console.services, console.tenant
    saved = await services.connectors.list(tenant.id)
    active = saved[0] if saved else None
    last = (await services.message_log.query(tenant.id, page_size=1)).entries
    outbox = []
    if active is not None and active.factory.id == OUTBOX_FACTORY.id and not tenant.is_production:
        outbox = services.connectors.outbox_messages(tenant)[:5]
    context = {
        "active": "connectors",
        "connector": active,
        "last_send": last[0] if last else None,
        "outbox": outbox,
        "notice": NOTICES.get(done),
    }
    return render(request, "console/connectors/list.html", context, console=console)


@router.get("/connectors/new")
async def choose_provider(request: Request, console: ConsoleDep) -> HTMLResponse:
    services = console.services
    current = await services.connectors.list(console.tenant.id)
    cards = [
        {
            "factory": factory,
            "development_only": DEVELOPMENT_TAG in factory.tags,
            "allowed": not (console.tenant.is_production and DEVELOPMENT_TAG in factory.tags),
        }
        for factory in services.connectors.factories()
    ]
    context = {
        "active": "connectors",
        "cards": cards,
        "unavailable": services.registry.unavailable,
        "replacing": current[0] if current else None,
    }
    return render(request, "console/connectors/choose.html", context, console=console)


def _setup_page(
    request: Request,
    console: Console,
    factory: ConnectorFactory[Any],
    fields: list[FormField],
    *,
    connector: ManagedConnector | None = None,
    status_code: int = 200,
    error: str | None = None,
    problems: list[str] | None = None,
    test: TestOutcome | None = None,
    test_phone: str = "",
    test_region: str | None = None,
    secrets_dropped: bool = False,
    replacement: Replacement | None = None,
    keep_templates: bool = False,
) -> HTMLResponse:
    rules = template_rules(factory)
    context = {
        "active": "connectors",
        "factory": factory,
        "connector": connector,
        "readme": readme_html(factory),
        "fields": fields,
        "usage_types": [usage.value for usage in UsageType],
        "error": error,
        "problems": problems or [],
        "test": test,
        "test_phone": test_phone,
        "countries": countries(),
        "test_region": _known_region(test_region)
        or default_region(request.headers.get("accept-language")),
        "secrets_dropped": secrets_dropped,
        # Not `tojson`, which sorts keys: the checks name fields in the model's order.
        "template_rules": None if rules is None else htmlsafe_json_dumps(rules.as_json()),
        "template_shape": None if rules is None else rules.shape,
        "replacement": replacement,
        "keep_templates": keep_templates,
        "keep_field": KEEP_FIELD,
        "action": f"{PREFIX}/connectors/{connector.id}"
        if connector
        else f"{PREFIX}/connectors/new/{factory.id}",
    }
    return render(
        request, "console/connectors/setup.html", context, console=console, status_code=status_code
    )


def _factory(console: Console, factory_id: str) -> ConnectorFactory[Any]:
    """The provider; an unknown id is named on the error page (the API's error has no field
    for it, so the console raises its own with the id in `details`)."""
    try:
        return console.services.connectors.factory(factory_id)
    except FactoryNotFoundError:
        raise FactoryNotFoundError(factory_id=factory_id) from None


def _new_fields(factory: ConnectorFactory[Any]) -> list[FormField]:
    """A new connector's fields. Template codes are the admin's own (approved at the provider):
    the editor starts empty with a placeholder rather than a made-up code that would save."""
    fields = form_fields(factory, None)
    rules = template_rules(factory)
    if rules is not None and rules.shape == "code":
        for f in fields:
            if f.key == TEMPLATES_KEY:
                f.value = None
                f.item = f.item | {"placeholder": CODE_TEMPLATES_PLACEHOLDER}
    return fields


CODE_TEMPLATES_PLACEHOLDER = (
    '[\n  {"usageType": "Generic", "templateCode": "the code of a template you had approved"}\n]'
)


async def _replacement(console: Console, factory: ConnectorFactory[Any]) -> Replacement | None:
    """The active SMS connector a new one would replace, if any."""
    current = await console.services.connectors.list(console.tenant.id)
    return describe_replacement(current[0], factory) if current else None


@router.get("/connectors/new/{factory_id}")
async def setup_page(factory_id: str, request: Request, console: ConsoleDep) -> HTMLResponse:
    factory = _factory(console, factory_id)
    replacement = await _replacement(console, factory)
    return _setup_page(
        request,
        console,
        factory,
        _new_fields(factory),
        replacement=replacement,
        keep_templates=replacement is not None and replacement.keepable,
    )


@router.post("/connectors/new/{factory_id}", response_model=None)
async def setup(factory_id: str, request: Request, console: ConsoleDep, form: FormDep) -> Response:
    factory = _factory(console, factory_id)
    replacement = await _replacement(console, factory)
    return await _submit(request, console, form, factory, _new_fields(factory), None, replacement)


@router.get("/connectors/{connector_id}")
async def details_page(connector_id: str, request: Request, console: ConsoleDep) -> HTMLResponse:
    connector = await console.services.connectors.get(console.tenant.id, connector_id)
    fields = form_fields(connector.factory, connector.config)
    return _setup_page(request, console, connector.factory, fields, connector=connector)


@router.post("/connectors/{connector_id}", response_model=None)
async def update(
    connector_id: str, request: Request, console: ConsoleDep, form: FormDep
) -> Response:
    connector = await console.services.connectors.get(console.tenant.id, connector_id)
    fields = form_fields(connector.factory, connector.config)
    return await _submit(request, console, form, connector.factory, fields, connector)


async def _submit(
    request: Request,
    console: Console,
    form: Any,
    factory: ConnectorFactory[Any],
    fields: list[FormField],
    connector: ManagedConnector | None,
    replacement: Replacement | None = None,
) -> Response:
    """ "Test" or "Save and done" of the set-up form; invalid fields come back inline.

    Kept templates are read from the saved connector, not from the page: the editor is
    ignored while "Keep my current templates" is ticked."""
    kept = kept_templates(replacement, form)
    config, unreadable = config_from_form(fields, form)
    if kept is not None:
        unreadable.pop(TEMPLATES_KEY, None)
        config[TEMPLATES_KEY] = kept
    for key, message in unreadable.items():
        next(f for f in fields if f.key == key).errors.append(message)
    services, tenant = console.services, console.tenant
    typed_secret = any(f.secret and form.get(f.name) for f in fields)
    # The form again, as posted, with what the answer adds (a test result, errors...).
    again = functools.partial(
        _setup_page,
        request,
        console,
        factory,
        fields,
        connector=connector,
        secrets_dropped=typed_secret,
        replacement=replacement,
        keep_templates=kept is not None,
    )
    if form.get("action") == "test":
        phone = str(form.get("test_phone", "")).strip()
        region = _known_region(str(form.get("test_country", "")))
        dialled = dialled_number(region, phone) if region and phone else phone
        outcome = await _test(console, factory, config, dialled, bool(unreadable))
        if wants_fragment(request):
            return render(
                request, "console/connectors/_test_result.html", {"test": outcome}, console=console
            )
        return again(test=outcome, test_phone=phone, test_region=region)
    if unreadable:
        return again(status_code=422, error="Some fields need your attention.")
    try:
        if connector is None:
            await services.connectors.create(tenant, factory.id, config)
        else:
            await services.connectors.update(tenant, connector.id, config)
    except InvalidConfigError as error:
        found = error.details.get("errors")
        unplaced = attach_errors(fields, list(found) if isinstance(found, list) else [])
        return again(status_code=422, error="Some fields need your attention.", problems=unplaced)
    except PhoneauthError as error:
        return again(status_code=error.status, error=admin_sentence(error.code, error.details))
    return RedirectResponse(f"{PREFIX}/connectors?done=saved", status_code=303)


def _known_region(region: str | None) -> str | None:
    """The picked country when it is one phonenumbers knows (a form can post anything)."""
    code = (region or "").upper()
    return code if any(country.region == code for country in countries()) else None


async def _test(
    console: Console,
    factory: ConnectorFactory[Any],
    config: dict[str, Any],
    phone: str,
    unreadable: bool,
) -> TestOutcome:
    if not phone:
        return TestOutcome(False, error_message="Enter the phone number to send the test to.")
    if unreadable:
        return TestOutcome(False, error_message=FIX_FIELDS_FIRST)
    services, tenant = console.services, console.tenant
    try:
        result = await services.connectors.test(tenant, factory.id, phone, config)
    except PhoneauthError as error:
        # The provider's own words stay: they are what its support and docs search for.
        provider = ", ".join(
            f"{value}"
            for key, value in error.details.items()
            if key in ("provider_code", "provider_message") and value is not None
        )
        found = error.details.get("errors")
        message = admin_sentence(error.code, error.details)
        if isinstance(found, list) and found:
            labels = labels_of(form_fields(factory, None))
            message += " " + " ".join(describe(p, labels) for p in found if isinstance(p, dict))
        return TestOutcome(False, error_code=error.code, error_message=message, provider=provider)
    outbox_text = None
    if factory.id == OUTBOX_FACTORY.id and not tenant.is_production:
        outbox_text = next(
            (
                m.text
                for m in services.connectors.outbox_messages(tenant)
                if m.id == result.provider_message_id
            ),
            None,
        )
    return TestOutcome(True, message_id=result.provider_message_id, outbox_text=outbox_text)


@router.get("/connectors/{connector_id}/delete")
async def delete_page(connector_id: str, request: Request, console: ConsoleDep) -> HTMLResponse:
    return await _delete_page(request, console, connector_id)


async def _delete_page(
    request: Request,
    console: Console,
    connector_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    services = console.services
    connector = await services.connectors.get(console.tenant.id, connector_id)
    dependents = await connector_removal.sms_dependents(
        services.connectors, services.sign_in_experience, console.tenant.id, connector.id
    )
    context = {
        "active": "connectors",
        "connector": connector,
        "dependents": [setting_in_words(path) for path in dependents],
        "error": error,
    }
    return render(
        request,
        "console/connectors/delete.html",
        context,
        console=console,
        status_code=status_code,
    )


@router.post("/connectors/{connector_id}/delete", response_model=None)
async def delete(
    connector_id: str, request: Request, console: ConsoleDep, form: FormDep
) -> Response:
    services = console.services
    try:
        await connector_removal.delete_connector(
            services.connectors,
            services.sign_in_experience,
            console.tenant.id,
            connector_id,
            force=form.get("force") == "true",
        )
    except ConnectorInUseError as error:
        message = admin_sentence(error.code, error.details)
        return await _delete_page(request, console, connector_id, error=message, status_code=409)
    return RedirectResponse(f"{PREFIX}/connectors?done=deleted", status_code=303)
