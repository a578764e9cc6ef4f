"""Console: Email and SMS connectors: the active one of each kind, set up, test, change, delete.

A tenant has one SMS connector and one Email connector, as in Logto; each section of the list
page offers only its own kind's providers, and replacing one leaves the other alone.

Every change goes through the same domain calls as the Management API: `create` (which replaces
the tenant's connector of that kind atomically), `update`, `test` (the unsaved config, Generic
template, code 000000, to a phone or an email address) and `connector_removal.delete_connector`
(the sign-in experience guard).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2.utils import htmlsafe_json_dumps

from phoneauth.connectors import ConnectorFactory, ConnectorType, InvalidConfigError, UsageType
from phoneauth.connectors.providers.outbox import FACTORY as OUTBOX_FACTORY
from phoneauth.connectors.providers.outbox_email import FACTORY as EMAIL_OUTBOX_FACTORY
from phoneauth.domain import connector_removal
from phoneauth.domain.connector_management import (
    DEVELOPMENT_TAG,
    FactoryNotFoundError,
    ManagedConnector,
)
from phoneauth.domain.message_log import MessageLogEntry
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
from phoneauth.web.console.template_sizes import autofill_lines, template_sizes
from phoneauth.web.human_messages import admin_sentence, describe, setting_in_words
from phoneauth.web.phone_input import countries, default_region, dialled_number

router = APIRouter(route_class=ConsoleRoute)

NOTICES = {
    "saved": "Saved. The connector sends the next code.",
    "saved-email": "Saved. The Email connector sends the next email.",
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
    outbox_subject: str | None = None


KINDS = {"sms": ConnectorType.SMS, "email": ConnectorType.EMAIL}
"""The `?type=` of the provider choice, as the list page's two sections link to it."""


@router.get("/connectors")
async def connectors_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    services, tenant = console.services, console.tenant
    active = await _active_of(console, ConnectorType.SMS)
    email = await _active_of(console, ConnectorType.EMAIL)
    # Each section's last send is its own provider's: an email never reads as the SMS one's.
    last = await _last_send(console, active)
    email_last = await _last_send(console, email)
    kept = [] if tenant.is_production else services.connectors.outbox_messages(tenant)
    outbox = email_outbox = []
    if active is not None and active.factory.id == OUTBOX_FACTORY.id:
        outbox = [m for m in kept if m.subject is None][:5]
    if email is not None and email.factory.id == EMAIL_OUTBOX_FACTORY.id:
        email_outbox = [m for m in kept if m.subject is not None][:5]
    context = {
        "active": "connectors",
        "connector": active,
        "email_connector": email,
        "last_send": last,
        "email_last_send": email_last,
        "outbox": outbox,
        "email_outbox": email_outbox,
        "notice": NOTICES.get(done),
        # After a save, each template's size with a sample code: a warning, never a refusal.
        "sizes": template_sizes(active.config.get(TEMPLATES_KEY) or [], tenant.settings.autofill)
        if done == "saved" and active is not None
        else [],
    }
    return render(request, "console/connectors/list.html", context, console=console)


async def _last_send(
    console: Console, connector: ManagedConnector | None
) -> MessageLogEntry | None:
    if connector is None:
        return None
    found = await console.services.message_log.query(
        console.tenant.id, factory_id=connector.factory.id, page_size=1
    )
    return found.entries[0] if found.entries else None


@router.get("/connectors/new")
async def choose_provider(request: Request, console: ConsoleDep) -> HTMLResponse:
    services = console.services
    kind = KINDS.get(request.query_params.get("type", "sms").lower(), ConnectorType.SMS)
    current = await _active_of(console, kind)
    cards = [
        {
            "factory": factory,
            "development_only": DEVELOPMENT_TAG in factory.tags,
            "allowed": not (console.tenant.is_production and DEVELOPMENT_TAG in factory.tags),
        }
        for factory in services.connectors.factories()
        if factory.type is kind
    ]
    context = {
        "active": "connectors",
        "cards": cards,
        "email": kind is ConnectorType.EMAIL,
        # Those of this kind, and those whose kind could not be told (on both pages).
        "unavailable": [u for u in services.registry.unavailable if u.type in (kind, None)],
        "replacing": current,
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
    test_email: str = "",
    secrets_dropped: bool = False,
    replacement: Replacement | None = None,
    keep_templates: bool = False,
) -> HTMLResponse:
    rules = template_rules(factory)
    context = {
        "active": "connectors",
        "factory": factory,
        "email": factory.type is ConnectorType.EMAIL,
        "change_link": _change_link(factory),
        "connector": connector,
        "readme": readme_html(factory),
        "fields": fields,
        "usage_types": [usage.value for usage in UsageType],
        "error": error,
        "problems": problems or [],
        "test": test,
        "test_phone": test_phone,
        "test_email": test_email,
        "test_region": _known_region(test_region)
        or default_region(request.headers.get("accept-language")),
        "secrets_dropped": secrets_dropped,
        # Not `tojson`, which sorts keys: the checks name fields in the model's order.
        "template_rules": None if rules is None else htmlsafe_json_dumps(rules.as_json()),
        "template_shape": None if rules is None else rules.shape,
        # The editor's live SMS size: text templates of an SMS connector, autofill included.
        "sms_sizes": rules is not None
        and rules.shape == "content"
        and factory.type is ConnectorType.SMS,
        "autofill_lines": autofill_lines(console.tenant.settings.autofill),
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


def _change_link(factory: ConnectorFactory[Any]) -> str:
    """The provider choice of this factory's kind: changing an Email connector offers Email
    providers."""
    kind = "email" if factory.type is ConnectorType.EMAIL else "sms"
    return f"{PREFIX}/connectors/new?type={kind}"


async def _active_of(console: Console, kind: ConnectorType) -> ManagedConnector | None:
    """The tenant's saved connector of this kind (at most one)."""
    saved = await console.services.connectors.list(console.tenant.id)
    return next((c for c in saved if c.factory.type is kind), None)


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
    """The active connector of the same kind a new one would replace, if any."""
    current = await _active_of(console, factory.type)
    return describe_replacement(current, factory) if current else None


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
    typed_secret = any((f.secret and form.get(f.name)) or f.dropped_secret for f in fields)
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
        if factory.type is ConnectorType.EMAIL:
            address = str(form.get("test_email", "")).strip()
            outcome = await _test(console, factory, config, address, bool(unreadable))
            if wants_fragment(request):
                return _test_fragment(request, console, outcome)
            return again(test=outcome, test_email=address)
        phone = str(form.get("test_phone", "")).strip()
        region = _known_region(str(form.get("test_country", "")))
        dialled = dialled_number(region, phone) if region and phone else phone
        outcome = await _test(console, factory, config, dialled, bool(unreadable))
        if wants_fragment(request):
            return _test_fragment(request, console, outcome)
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
    done = "saved-email" if factory.type is ConnectorType.EMAIL else "saved"
    return RedirectResponse(f"{PREFIX}/connectors?done={done}", status_code=303)


def _test_fragment(request: Request, console: Console, outcome: TestOutcome) -> HTMLResponse:
    return render(
        request, "console/connectors/_test_result.html", {"test": outcome}, console=console
    )


def _known_region(region: str | None) -> str | None:
    """The picked country when it is one phonenumbers knows (a form can post anything)."""
    code = (region or "").upper()
    return code if any(country.region == code for country in countries()) else None


async def _test(
    console: Console,
    factory: ConnectorFactory[Any],
    config: dict[str, Any],
    to: str,
    unreadable: bool,
) -> TestOutcome:
    """A test send to `to`: a phone number for an SMS factory, an address for an Email one."""
    email = factory.type is ConnectorType.EMAIL
    if not to:
        where = "email address" if email else "phone number"
        return TestOutcome(False, error_message=f"Enter the {where} to send the test to.")
    if email and not _looks_like_address(to):
        return TestOutcome(False, error_message=NOT_AN_ADDRESS)
    if unreadable:
        return TestOutcome(False, error_message=FIX_FIELDS_FIRST)
    services, tenant = console.services, console.tenant
    try:
        if email:
            result = await services.connectors.test(tenant, factory.id, None, config, email=to)
        else:
            result = await services.connectors.test(tenant, factory.id, to, config)
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
    kept = None
    if factory.id in (OUTBOX_FACTORY.id, EMAIL_OUTBOX_FACTORY.id) and not tenant.is_production:
        kept = next(
            (
                m
                for m in services.connectors.outbox_messages(tenant)
                if m.id == result.provider_message_id
            ),
            None,
        )
    return TestOutcome(
        True,
        message_id=result.provider_message_id,
        outbox_text=None if kept is None else kept.text,
        outbox_subject=None if kept is None else kept.subject,
    )


NOT_AN_ADDRESS = "Enter an email address such as jane@example.com to send the test to."


def _looks_like_address(text: str) -> bool:
    """One address, checked as the Management API checks `{email}` (email-validator)."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


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
    dependents = await connector_removal.dependents(
        services.connectors, services.sign_in_experience, console.tenant.id, connector.id
    )
    context = {
        "active": "connectors",
        "connector": connector,
        "email": connector.factory.type is ConnectorType.EMAIL,
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
            # "Delete" asks first; "Delete anyway" (force) deletes as the API does.
            if_unused=form.get("force") != "true",
        )
    except ConnectorInUseError as error:
        message = admin_sentence(error.code, error.details)
        return await _delete_page(request, console, connector_id, error=message, status_code=409)
    return RedirectResponse(f"{PREFIX}/connectors?done=deleted", status_code=303)
