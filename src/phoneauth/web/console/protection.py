"""Console: Protection: the SMS pumping defence's settings, suspended countries, today's counts.

The same domain calls as `/api/sms-protection`, in words: the settings form, each suspended
country with why and a Resume button, and the counts today's caps judge.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from phoneauth.domain.sms_protection_settings import NumberType, SmsProtectionSettings
from phoneauth.errors import PhoneauthError
from phoneauth.web.console.support import PREFIX, Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.human_messages import admin_sentence
from phoneauth.web.phone_input import country_name

router = APIRouter(route_class=ConsoleRoute)

NOTICES = {
    "saved": "Saved. The next code is judged by these settings.",
    "resumed": "Sending to this country is resumed; its codes are judged afresh from now.",
}
TYPE_WORDS = {
    NumberType.MOBILE: "Mobile numbers",
    NumberType.FIXED_LINE_OR_MOBILE: "Numbers that may be mobile or fixed (such as in the US)",
    NumberType.FIXED_LINE: "Fixed lines (SMS rarely arrive)",
    NumberType.TOLL_FREE: "Toll-free numbers",
    NumberType.PREMIUM_RATE: "Premium-rate numbers (where pumping happens)",
    NumberType.SHARED_COST: "Shared-cost numbers",
    NumberType.VOIP: "Internet telephony (VoIP)",
    NumberType.PERSONAL_NUMBER: "Personal numbers",
    NumberType.PAGER: "Pagers",
    NumberType.UAN: "Universal access numbers",
    NumberType.VOICEMAIL: "Voicemail access numbers",
    NumberType.UNKNOWN: "Numbers the numbering plan cannot place",
}
FIELD_WORDS = {
    "allowedCountries": "Countries allowed",
    "deniedCountries": "Countries refused",
    "allowedNumberTypes": "Kinds of numbers",
    "prefixDigits": "Digits left out of a prefix",
    "prefixLimit": "Codes per prefix",
    "prefixWindowSeconds": "Prefix window",
    "dailyLimit": "Codes per day",
    "countryDailyLimit": "Codes per day to one country",
    "dailyCostLimit": "Estimated cost per day",
    "prices": "Prices",
    "defaultPrice": "Price of other countries",
    "conversionThreshold": "Verified share",
    "conversionMinSends": "Codes before judging",
    "conversionWindowSeconds": "Conversion window",
    "suspensionSeconds": "Pause",
}


def _country(code: str) -> str:
    return "Non-geographic numbers" if code == "001" else f"{country_name(code)} ({code})"


async def _page(
    request: Request,
    console: Console,
    *,
    done: str = "",
    error: str | None = None,
    problems: list[str] | None = None,
    posted: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    rules = console.tenant.settings.sms_protection
    state = await console.services.sms_protection.state(console.tenant)
    values = posted or rules.model_dump(mode="json", by_alias=True)
    context = {
        "active": "protection",
        "notice": NOTICES.get(done),
        "error": error,
        "problems": problems or [],
        "values": values,
        "types": list(TYPE_WORDS.items()),
        "suspended": [(s, _country(s.country)) for s in state.suspended],
        "state": state,
        "countries": [(c, _country(c.country)) for c in state.countries],
        "rules": rules,
        "redis": bool(console.services.settings.redis_url),
        "prices_text": "\n".join(f"{c} {p:g}" for c, p in values.get("prices", {}).items()),
    }
    return render(
        request, "console/protection.html", context, console=console, status_code=status_code
    )


@router.get("/protection")
async def protection_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    return await _page(request, console, done=done)


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _number(text: str) -> Any:
    """A typed number as a number, empty as None; anything else as typed (refused in words)."""
    if not text:
        return None
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        return text


def _settings_from_form(form: FormData) -> dict[str, Any]:
    def regions(name: str) -> list[str]:
        return [
            c.strip().upper() for c in _text(form, name).replace(";", ",").split(",") if c.strip()
        ]

    prices: dict[str, Any] = {}
    for line in _text(form, "prices").splitlines():
        parts = line.replace(":", " ").replace("=", " ").split()
        if len(parts) == 2:
            prices[parts[0].upper()] = _number(parts[1])
        elif parts:
            prices[line.strip()] = None  # refused below, named by what was typed
    threshold = _number(_text(form, "conversion_percent"))
    document: dict[str, Any] = {
        "allowedCountries": regions("allowed_countries"),
        "deniedCountries": regions("denied_countries"),
        "allowedNumberTypes": [v for v in form.getlist("number_types") if isinstance(v, str)],
        "prefixDigits": _number(_text(form, "prefix_digits")),
        "prefixLimit": _number(_text(form, "prefix_limit")),
        "prefixWindowSeconds": _number(_text(form, "prefix_window")),
        "dailyLimit": _number(_text(form, "daily_limit")),
        "countryDailyLimit": _number(_text(form, "country_daily_limit")),
        "dailyCostLimit": _number(_text(form, "daily_cost_limit")),
        "prices": prices,
        "defaultPrice": _number(_text(form, "default_price")),
        "conversionThreshold": threshold / 100 if isinstance(threshold, int | float) else threshold,
        "conversionMinSends": _number(_text(form, "conversion_min_sends")),
        "conversionWindowSeconds": _number(_text(form, "conversion_window")),
        "suspensionSeconds": _number(_text(form, "suspension_seconds")),
    }
    # An empty field that has a default takes it; the caps and the pause mean "none" when empty.
    optional = {"dailyLimit", "countryDailyLimit", "dailyCostLimit", "suspensionSeconds"}
    return {k: v for k, v in document.items() if v is not None or k in optional}


def _problem(issue: Any) -> str:
    """One refused setting, named as the form names it."""
    field = str(issue["loc"][0]) if issue["loc"] else ""
    words = FIELD_WORDS.get(field, "The settings")
    return f"{words}: {str(issue['msg']).removeprefix('Value error, ')}."


@router.post("/protection", response_model=None)
async def save_settings(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    document = _settings_from_form(form)
    try:
        rules = SmsProtectionSettings.model_validate(document)
    except ValidationError as invalid:
        problems = [
            _problem(issue)
            for issue in invalid.errors(
                include_url=False, include_input=False, include_context=False
            )
        ]
        return await _page(
            request,
            console,
            error="The settings were not saved:",
            problems=problems,
            posted=document,
            status_code=400,
        )
    settings = console.tenant.settings.model_copy(update={"sms_protection": rules})
    await console.services.tenants.update_settings(console.tenant.id, settings)
    return RedirectResponse(f"{PREFIX}/protection?done=saved", status_code=303)


@router.post("/protection/suspensions/{country}/resume", response_model=None)
async def resume_country(
    request: Request, country: str, console: ConsoleDep, form: FormDep
) -> Response:
    try:
        await console.services.sms_protection.resume(console.tenant, country)
    except PhoneauthError as error:
        sentence = admin_sentence(error.code, error.details)
        return await _page(request, console, error=sentence, status_code=400)
    return RedirectResponse(f"{PREFIX}/protection?done=resumed", status_code=303)
