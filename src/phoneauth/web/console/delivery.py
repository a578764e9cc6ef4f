"""Console: Delivery: standby SMS connectors, routes by country, the fallback order, circuits.

The same domain calls as `/api/sms-routing`; the standby set-up form is the connectors' own
(`connectors/_fields.html` over `form_fields`), and every refusal is the human sentence of its
code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from phoneauth.connectors import ConnectorFactory, ConnectorType, InvalidConfigError
from phoneauth.domain.circuit_breaker import CircuitState, CircuitView
from phoneauth.domain.connector_management import DEVELOPMENT_TAG, FactoryNotFoundError
from phoneauth.domain.delivery_routing import RoutingOverview
from phoneauth.domain.sms_routing import ACTIVE, MAX_CONNECTORS_PER_LIST
from phoneauth.errors import PhoneauthError
from phoneauth.web.console.connector_forms import (
    FormField,
    attach_errors,
    config_from_form,
    form_fields,
    readme_html,
)
from phoneauth.web.console.support import PREFIX, Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.human_messages import admin_sentence

router = APIRouter(route_class=ConsoleRoute)

NOTICES = {
    "added": "The standby connector was added. Name it in a route or the fallback order to use it.",
    "deleted": "The standby connector was deleted.",
    "saved": "Saved. The next code is sent by these rules.",
}
SLOTS = 3
"""Connector choices shown per route and for the fallback order (more over the API)."""


@dataclass(frozen=True, slots=True)
class Circuit:
    name: str
    state: str
    words: str


def _names(console: Console, overview: RoutingOverview, active: str | None) -> dict[str, str]:
    """Connector ids → what the page calls them."""
    names = {ACTIVE: "The active connector"}
    counts: dict[str, int] = {}
    for standby in overview.standby:
        factory = console.services.connectors.factory(standby.factory_id)
        counts[factory.name] = counts.get(factory.name, 0) + 1
        names[standby.id] = f"{factory.name} (standby {counts[factory.name]})"
    if active is not None:
        names[active] = names[ACTIVE]
    return names


def _circuit(view: CircuitView, names: dict[str, str]) -> Circuit:
    name = names.get(view.connector_id, "A connector no longer configured")
    if view.state is CircuitState.CLOSED:
        words = "Working."
        if view.consecutive_failures == 1:
            words = "Working; the last send through it failed."
        elif view.consecutive_failures:
            words = f"Working; the last {view.consecutive_failures} sends through it failed."
    elif view.state is CircuitState.OPEN:
        seconds = round(view.retry_in_seconds or 0)
        words = (
            f"Paused after {view.consecutive_failures} failures in a row: skipped, and tried "
            f"again in {seconds} s."
        )
    else:
        words = "Being tried again with one message."
    return Circuit(name, view.state.value, words)


async def _page(
    request: Request,
    console: Console,
    *,
    done: str = "",
    error: str | None = None,
    status_code: int = 200,
    posted: dict[str, Any] | None = None,
) -> HTMLResponse:
    services = console.services
    overview = await services.delivery_routing.overview(console.tenant.id)
    active = await services.connectors.active_sms_connector(console.tenant.id)
    names = _names(console, overview, None if active is None else active.row_id)
    document = posted or overview.rules.to_document()
    routes = [*document.get("routes", []), {"countries": [], "connectors": []}]
    context = {
        "active": "delivery",
        "notice": NOTICES.get(done),
        "error": error,
        "standby": [(s, names[s.id]) for s in overview.standby],
        "choices": [(ACTIVE, names[ACTIVE])] + [(s.id, names[s.id]) for s in overview.standby],
        "routes": routes,
        "fallback": document.get("fallback", []),
        "deadline": document.get("deadlineSeconds", ""),
        "breaker": document.get("circuitBreaker", {}),
        "slots": SLOTS,
        "circuits": [_circuit(view, names) for view in overview.circuits],
        "has_active": active is not None,
        "configured": overview.configured,
    }
    return render(
        request, "console/delivery/page.html", context, console=console, status_code=status_code
    )


@router.get("/delivery")
async def delivery_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    return await _page(request, console, done=done)


def _number(text: str) -> float | str | None:
    """A typed number as a number; anything else as typed (the rules name it as invalid)."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        return text


def _rules_from_form(form: FormData) -> dict[str, Any]:
    def texts(name: str) -> list[str]:
        return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]

    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else ""

    routes = []
    for index in range(int(text("route_count") or 0) if text("route_count").isdigit() else 0):
        countries = [
            c.strip().upper() for c in text(f"countries_{index}").replace(";", ",").split(",")
        ]
        countries = [c for c in countries if c]
        connectors = texts(f"route_{index}")[:MAX_CONNECTORS_PER_LIST]
        if countries or connectors:
            routes.append({"countries": countries, "connectors": connectors})
    document: dict[str, Any] = {
        "routes": routes,
        "fallback": texts("fallback")[:MAX_CONNECTORS_PER_LIST],
    }
    deadline = _number(text("deadline"))
    if deadline is not None:
        document["deadlineSeconds"] = deadline
    breaker = {
        key: value
        for key, value in (
            ("failureThreshold", _number(text("failure_threshold"))),
            ("cooldownSeconds", _number(text("cooldown"))),
        )
        if value is not None
    }
    if breaker:
        document["circuitBreaker"] = breaker
    return document


@router.post("/delivery", response_model=None)
async def save_rules(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    document = _rules_from_form(form)
    try:
        await console.services.delivery_routing.put_rules(console.tenant.id, document)
    except PhoneauthError as error:
        sentence = admin_sentence(error.code, error.details)
        return await _page(request, console, error=sentence, status_code=400, posted=document)
    return RedirectResponse(f"{PREFIX}/delivery?done=saved", status_code=303)


def _sms_factories(console: Console) -> list[ConnectorFactory[Any]]:
    production = console.tenant.is_production
    return [
        factory
        for factory in console.services.connectors.factories()
        if factory.type is ConnectorType.SMS
        and not (production and DEVELOPMENT_TAG in factory.tags)
    ]


@router.get("/delivery/new")
async def choose_provider(request: Request, console: ConsoleDep) -> HTMLResponse:
    context = {"active": "delivery", "factories": _sms_factories(console)}
    return render(request, "console/delivery/choose.html", context, console=console)


def _factory(console: Console, factory_id: str) -> ConnectorFactory[Any]:
    found = next((f for f in _sms_factories(console) if f.id == factory_id), None)
    if found is None:
        raise FactoryNotFoundError(factory_id=factory_id)
    return found


def _setup_page(
    request: Request,
    console: Console,
    factory: ConnectorFactory[Any],
    fields: list[FormField],
    *,
    error: str | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "active": "delivery",
        "factory": factory,
        "fields": fields,
        "readme": readme_html(factory),
        "error": error,
        "problems": problems or [],
        "template_rules": None,
        "replacement": None,
        "connector": None,
        "email": False,
    }
    return render(
        request,
        "console/delivery/setup.html",
        context,
        console=console,
        status_code=status_code,
    )


@router.get("/delivery/new/{factory_id}")
async def setup_page(factory_id: str, request: Request, console: ConsoleDep) -> HTMLResponse:
    factory = _factory(console, factory_id)
    return _setup_page(request, console, factory, form_fields(factory, None))


@router.post("/delivery/new/{factory_id}", response_model=None)
async def add(factory_id: str, request: Request, console: ConsoleDep, form: FormDep) -> Response:
    factory = _factory(console, factory_id)
    fields = form_fields(factory, None)
    config, unreadable = config_from_form(fields, form)
    for key, message in unreadable.items():
        next(f for f in fields if f.key == key).errors.append(message)
    attention = "Some fields need your attention."
    if unreadable:
        return _setup_page(request, console, factory, fields, error=attention, status_code=422)
    try:
        await console.services.delivery_routing.add_standby(console.tenant, factory.id, config)
    except InvalidConfigError as error:
        found = error.details.get("errors")
        unplaced = attach_errors(fields, list(found) if isinstance(found, list) else [])
        return _setup_page(
            request, console, factory, fields, error=attention, problems=unplaced, status_code=422
        )
    except PhoneauthError as error:
        sentence = admin_sentence(error.code, error.details)
        return _setup_page(
            request, console, factory, fields, error=sentence, status_code=error.status
        )
    return RedirectResponse(f"{PREFIX}/delivery?done=added", status_code=303)


@router.post("/delivery/connectors/{connector_id}/delete", response_model=None)
async def delete(
    connector_id: str, request: Request, console: ConsoleDep, form: FormDep
) -> Response:
    try:
        await console.services.delivery_routing.delete_standby(console.tenant.id, connector_id)
    except PhoneauthError as error:
        sentence = admin_sentence(error.code, error.details)
        return await _page(request, console, error=sentence, status_code=error.status)
    return RedirectResponse(f"{PREFIX}/delivery?done=deleted", status_code=303)
