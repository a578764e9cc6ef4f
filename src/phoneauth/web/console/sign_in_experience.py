"""Console: Sign-in experience: sign-up identifiers, verification, sign-in methods, password
reset.

Saved through `SignInExperiences.update`, the service behind `PATCH /api/sign-in-exp`, so
Logto's rules hold here too; a refusal is said in the admin's words (`human_messages`). The
choices and the posted form are read in `sign_in_experience_form`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phoneauth.domain.setup_problems import email_usable, sms_usable
from phoneauth.domain.sign_in_experience import (
    SignIn,
    SignInExperience,
    SignInIdentifier,
    SignInMethod,
    SignInMode,
)
from phoneauth.domain.sign_in_experience_rules import SignInExperienceRuleError
from phoneauth.web.console import sign_in_experience_form as form_parts
from phoneauth.web.console.sign_in_experience_form import (
    EMAIL,
    FORGOT_PASSWORD_LABELS,
    IDENTIFIER_LABELS,
    SECONDARY_LABELS,
    SIGN_UP_CHOICES,
    SMS,
)
from phoneauth.web.console.support import PREFIX, Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.human_messages import admin_sentence

router = APIRouter(route_class=ConsoleRoute)

MODES = {
    SignInMode.SIGN_IN_AND_REGISTER: "Sign in and create accounts",
    SignInMode.SIGN_IN: "Sign in only",
    SignInMode.REGISTER: "Create accounts only",
}
MAX_METHODS = 3


async def _available(console: Console) -> set[str]:
    """The connector types the tenant can send codes through now (cached reads)."""
    connectors, tenant_id = console.services.connectors, console.tenant.id
    found = {SMS} if await sms_usable(connectors, tenant_id) else set()
    return found | ({EMAIL} if await email_usable(connectors, tenant_id) else set())


async def _page(
    request: Request,
    console: Console,
    document: SignInExperience,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    base = "" if console.tenant.id == "default" else f"/t/{console.tenant.id}"
    available = await _available(console)
    sign_up = form_parts.choices({k: v[0] for k, v in SIGN_UP_CHOICES.items()}, available)
    secondary = form_parts.choices(SECONDARY_LABELS, available)
    forgot = form_parts.choices(FORGOT_PASSWORD_LABELS, available)
    context = {
        "active": "sign-in-experience",
        "document": document,
        "sign_up_choice": form_parts.sign_up_choice(document.sign_up),
        "sign_up_choices": sign_up,
        "hints": form_parts.hints(available),
        "secondary_choices": secondary,
        "secondary_ticked": {i.identifier.value for i in document.sign_up.secondary_identifiers},
        "identifiers": IDENTIFIER_LABELS,
        "code_needs": {i: form_parts.code_needs(i, available) for i in IDENTIFIER_LABELS},
        "forgot_choices": forgot,
        "forgot_ticked": form_parts.forgot_password_ticked(document.forgot_password_methods),
        "modes": MODES,
        "max_methods": MAX_METHODS,
        "preview": f"{base}/sign-in",
        "error": error,
        "notice": notice,
    }
    return render(
        request,
        "console/sign_in_experience.html",
        context,
        console=console,
        status_code=status_code,
    )


@router.get("/sign-in-experience")
async def sign_in_experience_page(
    request: Request, console: ConsoleDep, done: str = ""
) -> HTMLResponse:
    document = await console.services.sign_in_experience.current(console.tenant.id)
    notice = "Saved. The sign-in page shows the change now." if done == "saved" else None
    return await _page(request, console, document, notice=notice)


@router.post("/sign-in-experience", response_model=None)
async def save_sign_in_experience(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    current = await console.services.sign_in_experience.current(console.tenant.id)
    action = str(form.get("action", "save"))
    choice = str(form.get("sign_up_identifier", "phone"))
    identifiers = SIGN_UP_CHOICES.get(choice, SIGN_UP_CHOICES["phone"])[1]
    changes: dict[str, object] = {}
    try:
        methods = [
            SignInMethod.model_validate(m) for m in form_parts.sign_in_methods(form, MAX_METHODS)
        ]
        update: dict[str, object] = {
            "identifiers": [SignInIdentifier(i) for i in identifiers],
            "password": form.get("sign_up_password") == "on",
            "verify": form.get("sign_up_verify") == "on",
        }
        if form.get("secondary_shown") == "1":  # forms of older pages leave them alone
            update["secondary_identifiers"] = form_parts.secondary_identifiers(
                form, current.sign_up
            )
        if form.get("forgot_password_shown") == "1":
            changes["forgot_password_methods"] = form_parts.forgot_password_methods(
                form, current.forgot_password_methods
            )
        sign_up = current.sign_up.model_copy(update=update)
        mode = SignInMode(str(form.get("sign_in_mode", current.sign_in_mode.value)))
    except ValueError:
        return await _page(
            request,
            console,
            current,
            error="The form holds a value the console does not offer.",
            status_code=400,
        )
    if action == "add" and len(methods) < MAX_METHODS:
        taken = {m.identifier for m in methods}
        free = [i for i in SignInIdentifier if i not in taken]
        methods.append(SignInMethod(identifier=free[0] if free else SignInIdentifier.PHONE))
    changes |= {"sign_up": sign_up, "sign_in": SignIn(methods=methods), "sign_in_mode": mode}
    if changes.get("forgot_password_methods", current.forgot_password_methods) is None:
        changes.pop("forgot_password_methods", None)  # Logto's null stays null
    draft = current.model_copy(update=changes)
    if action != "save":  # "Add another" and "Remove" only redraw the form
        return await _page(request, console, draft)
    try:
        await console.services.sign_in_experience.update(
            console.tenant.id, changes, console.services.connectors
        )
    except SignInExperienceRuleError as error:
        return await _page(
            request, console, draft, error=_in_words(error), status_code=error.status
        )
    return RedirectResponse(f"{PREFIX}/sign-in-experience?done=saved", status_code=303)


def _in_words(error: SignInExperienceRuleError) -> str:
    """The admin's sentence for Logto's rule, naming the setting as this form does."""
    return admin_sentence(error.code, error.details)
