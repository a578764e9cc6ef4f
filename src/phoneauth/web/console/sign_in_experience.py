"""Console: Sign-in experience: sign-up identifier, verification, sign-in methods.

Saved through `SignInExperiences.update`, the service behind `PATCH /api/sign-in-exp`, so
Logto's rules hold here too; a refusal is said in the admin's words (`human_messages`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from phoneauth.domain.sign_in_experience import (
    SignIn,
    SignInExperience,
    SignInIdentifier,
    SignInMethod,
    SignInMode,
    SignUp,
)
from phoneauth.domain.sign_in_experience_rules import SignInExperienceRuleError
from phoneauth.web.console.support import PREFIX, Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.human_messages import admin_sentence

router = APIRouter(route_class=ConsoleRoute)

SIGN_UP_CHOICES = {
    "username": ("Username", ["username"]),
    "email": ("Email address", ["email"]),
    "phone": ("Phone number", ["phone"]),
    "emailOrPhone": ("Email address or phone number", ["email", "phone"]),
    "none": ("None (the default until an SMS connector exists)", []),
}
# What each sign-in identifier is called on the page (its value stays Logto's).
IDENTIFIER_LABELS = {
    SignInIdentifier.PHONE.value: "Phone number",
    SignInIdentifier.EMAIL.value: "Email address",
    SignInIdentifier.USERNAME.value: "Username",
}

MODES = {
    SignInMode.SIGN_IN_AND_REGISTER: "Sign in and create accounts",
    SignInMode.SIGN_IN: "Sign in only",
    SignInMode.REGISTER: "Create accounts only",
}
MAX_METHODS = 3


def _sign_up_choice(sign_up: SignUp) -> str:
    identifiers = sorted(i.value for i in sign_up.identifiers)
    for key, (_, values) in SIGN_UP_CHOICES.items():
        if sorted(values) == identifiers:
            return key
    return "phone"


def _page(
    request: Request,
    console: Console,
    document: SignInExperience,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    base = "" if console.tenant.id == "default" else f"/t/{console.tenant.id}"
    context = {
        "active": "sign-in-experience",
        "document": document,
        "sign_up_choice": _sign_up_choice(document.sign_up),
        "sign_up_choices": SIGN_UP_CHOICES,
        "identifiers": IDENTIFIER_LABELS,
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
    return _page(request, console, document, notice=notice)


def _methods(form: FormData) -> list[dict[str, Any]]:
    methods = []
    for index in range(MAX_METHODS + 1):
        identifier = form.get(f"method-{index}-identifier")
        if not isinstance(identifier, str) or not identifier:
            continue
        if form.get("action") == f"remove-{index}":
            continue
        methods.append(
            {
                "identifier": identifier,
                "password": form.get(f"method-{index}-password") == "on",
                "verificationCode": form.get(f"method-{index}-code") == "on",
                "isPasswordPrimary": form.get(f"method-{index}-password-first") == "on",
            }
        )
    return methods


@router.post("/sign-in-experience", response_model=None)
async def save_sign_in_experience(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    current = await console.services.sign_in_experience.current(console.tenant.id)
    action = str(form.get("action", "save"))
    choice = str(form.get("sign_up_identifier", "phone"))
    identifiers = SIGN_UP_CHOICES.get(choice, SIGN_UP_CHOICES["phone"])[1]
    try:
        methods = [SignInMethod.model_validate(m) for m in _methods(form)]
        sign_up = current.sign_up.model_copy(
            update={
                "identifiers": [SignInIdentifier(i) for i in identifiers],
                "password": form.get("sign_up_password") == "on",
                "verify": form.get("sign_up_verify") == "on",
            }
        )
        mode = SignInMode(str(form.get("sign_in_mode", current.sign_in_mode.value)))
    except ValueError:
        return _page(
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
    draft = current.model_copy(
        update={"sign_up": sign_up, "sign_in": SignIn(methods=methods), "sign_in_mode": mode}
    )
    if action != "save":  # "Add another" and "Remove" only redraw the form
        return _page(request, console, draft)
    changes = {"sign_up": sign_up, "sign_in": SignIn(methods=methods), "sign_in_mode": mode}
    try:
        await console.services.sign_in_experience.update(
            console.tenant.id, changes, console.services.connectors
        )
    except SignInExperienceRuleError as error:
        return _page(request, console, draft, error=_in_words(error), status_code=error.status)
    return RedirectResponse(f"{PREFIX}/sign-in-experience?done=saved", status_code=303)


def _in_words(error: SignInExperienceRuleError) -> str:
    """The admin's sentence for Logto's rule, naming the setting as this form does."""
    return admin_sentence(error.code, error.details)
