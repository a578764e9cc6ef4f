"""Console: Applications: the apps that sign users in through phoneauth's OpenID Connect
provider, and the services that call the Management API with client credentials.

List, create, edit and delete (after a confirmation page); a confidential app's secret is shown
once, in the page that answers the form that made it (phoneauth keeps only a hash, and a secret
never travels in a URL); each app's page has what its code needs: issuer, discovery URL, client
id and redirect URIs, and for a machine-to-machine app the token request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from phoneauth.domain.applications import (
    MANAGEMENT_API_ACCESS_ROLE,
    Application,
    ApplicationType,
    StoredSecret,
)
from phoneauth.domain.redirect_uris import redirect_uri_problem
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id
from phoneauth.web.console.support import PREFIX, Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.human_messages import admin_sentence

router = APIRouter(route_class=ConsoleRoute)

TYPES: dict[ApplicationType, tuple[str, str]] = {
    ApplicationType.TRADITIONAL: (
        "Traditional web app",
        "Runs on a server and keeps a client secret; signs users in with the code flow.",
    ),
    ApplicationType.SPA: (
        "Single-page app",
        "Runs in the browser, so it keeps no secret: the code flow with PKCE.",
    ),
    ApplicationType.NATIVE: (
        "Native app",
        "A mobile or desktop app: the code flow with PKCE, often with its own URI scheme.",
    ),
    ApplicationType.MACHINE_TO_MACHINE: (
        "Machine-to-machine",
        "A backend service without users: it gets tokens with its client secret, for example "
        "to call the Management API.",
    ),
}
MAX_NAME = 256
MAX_DESCRIPTION = 2048
MAX_URIS = 100


@dataclass(frozen=True, slots=True)
class _Form:
    """What the create or edit form holds, as typed, and what is wrong with it."""

    name: str = ""
    type: str = ApplicationType.TRADITIONAL.value
    description: str = ""
    redirect_uris: str = ""
    post_logout_redirect_uris: str = ""

    @classmethod
    def of(cls, form: FormData) -> _Form:
        def text(key: str) -> str:
            value = form.get(key, "")
            return value.strip() if isinstance(value, str) else ""

        return cls(*(text(key) for key in cls.__dataclass_fields__))

    @classmethod
    def showing(cls, application: Application) -> _Form:
        return cls(
            application.name,
            application.type.value,
            application.description or "",
            "\n".join(application.redirect_uris),
            "\n".join(application.post_logout_redirect_uris),
        )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _uri_problem(text: str) -> str | None:
    uris = _lines(text)
    if len(uris) > MAX_URIS:
        return f"List at most {MAX_URIS} addresses."
    for number, uri in enumerate(uris, start=1):
        problem = redirect_uri_problem(uri)
        if problem is not None:
            shown = uri if len(uri) <= 80 else uri[:77] + "…"
            return f"Line {number}, “{shown}”, {problem}."
    return None


def _problems(form: _Form, *, creating: bool) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not 1 <= len(form.name) <= MAX_NAME:
        problems["name"] = f"Give the application a name (up to {MAX_NAME} characters)."
    if creating and form.type not in {t.value for t in ApplicationType}:
        problems["type"] = "Choose what kind of application this is."
    if len(form.description) > MAX_DESCRIPTION:
        problems["description"] = f"Keep the description under {MAX_DESCRIPTION} characters."
    for key in ("redirect_uris", "post_logout_redirect_uris"):
        problem = _uri_problem(getattr(form, key))
        if problem is not None:
            problems[key] = problem
    for key in _Form.__dataclass_fields__:
        if "\x00" in getattr(form, key):
            problems[key] = "Remove the NUL character from this field."
    return problems


def _summary(count: int) -> str:
    if count == 1:
        return "One field needs your attention: see its message below."
    return f"{count} fields need your attention: see the messages below."


# --- the list and the create form ------------------------------------------------------------


async def _list_page(
    request: Request,
    console: Console,
    *,
    form: _Form | None = None,
    problems: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    found = await console.services.applications.list_applications(console.tenant.id)
    context = {
        "active": "applications",
        "applications": found.items,
        "types": TYPES,
        "form": form or _Form(),
        "problems": problems or {},
        "error": error,
        "notice": notice,
    }
    return render(
        request,
        "console/applications/list.html",
        context,
        console=console,
        status_code=status_code,
    )


@router.get("/applications")
async def applications_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    notices = {"deleted": "Application deleted. Its tokens and sign-ins stop working."}
    return await _list_page(request, console, notice=notices.get(done))


@router.post("/applications", response_model=None)
async def create_application(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    typed = _Form.of(form)
    problems = _problems(typed, creating=True)
    if problems:
        return await _list_page(
            request,
            console,
            form=typed,
            problems=problems,
            error=_summary(len(problems)),
            status_code=422,
        )
    kind = ApplicationType(typed.type)
    application = Application(
        tenant_id=console.tenant.id,
        id=new_id(),
        name=typed.name,
        type=kind,
        created_at=console.services.applications.clock(),
        description=typed.description or None,
        redirect_uris=tuple(_lines(typed.redirect_uris)),
        post_logout_redirect_uris=tuple(_lines(typed.post_logout_redirect_uris)),
    )
    try:
        created = await console.services.applications.create(application)
    except PhoneauthError as error:
        return await _list_page(
            request,
            console,
            form=typed,
            error=admin_sentence(error.code, error.details),
            status_code=error.status,
        )
    return await _app_page(
        request,
        console,
        created.application,
        new_secret=(created.secret, "Default secret") if created.secret else None,
        notice="Application created.",
    )


# --- one application -------------------------------------------------------------------------


async def _app_page(
    request: Request,
    console: Console,
    application: Application,
    *,
    form: _Form | None = None,
    problems: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    new_secret: tuple[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    services = console.services
    # What the provider itself says: `<public url>/oidc` (`/t/<tenant>/oidc` for other
    # tenants) and PHONEAUTH_MANAGEMENT_API_RESOURCE for the tenant.
    tokens = services.oidc_tokens
    issuer = tokens.issuer(console.tenant.id)
    m2m = application.type is ApplicationType.MACHINE_TO_MACHINE
    secrets: list[StoredSecret] = []
    if not application.is_public:
        secrets = await services.applications.secrets(console.tenant.id, application.id)
    has_access = m2m and await services.applications.has_role(
        console.tenant.id, application.id, MANAGEMENT_API_ACCESS_ROLE.id
    )
    context: dict[str, Any] = {
        "active": "applications",
        "app": application,
        "type_label": TYPES[application.type][0],
        "types": TYPES,
        "m2m": m2m,
        "issuer": issuer,
        "discovery": f"{issuer}/.well-known/openid-configuration",
        "resource": tokens.management_resource(console.tenant.id),
        "role": MANAGEMENT_API_ACCESS_ROLE,
        "has_access": has_access,
        "secrets": secrets,
        "new_secret": new_secret,
        "form": form or _Form.showing(application),
        "problems": problems or {},
        "error": error,
        "notice": notice,
        "base": f"{PREFIX}/applications/{quote(application.id, safe='')}",
    }
    return render(
        request,
        "console/applications/detail.html",
        context,
        console=console,
        status_code=status_code,
    )


async def _application(console: Console, application_id: str) -> Application:
    return await console.services.applications.get(console.tenant.id, application_id)


@router.get("/applications/{application_id}")
async def application_page(
    application_id: str, request: Request, console: ConsoleDep, done: str = ""
) -> HTMLResponse:
    notices = {
        "saved": "Saved.",
        "access": "The application may now call the Management API.",
        "no-access": "The application can no longer call the Management API.",
        "secret-deleted": "Secret deleted: clients that used it can no longer get tokens.",
    }
    application = await _application(console, application_id)
    return await _app_page(request, console, application, notice=notices.get(done))


@router.post("/applications/{application_id}", response_model=None)
async def save_application(
    application_id: str, request: Request, console: ConsoleDep, form: FormDep
) -> Response:
    application = await _application(console, application_id)
    typed = _Form.of(form)
    problems = _problems(typed, creating=False)
    if problems:
        return await _app_page(
            request,
            console,
            application,
            form=typed,
            problems=problems,
            error=_summary(len(problems)),
            status_code=422,
        )
    await console.services.applications.update(
        console.tenant.id,
        application.id,
        name=typed.name,
        description=typed.description or None,
        redirect_uris=tuple(_lines(typed.redirect_uris)),
        post_logout_redirect_uris=tuple(_lines(typed.post_logout_redirect_uris)),
    )
    return _back_to(application, "saved")


def _back_to(application: Application, done: str) -> RedirectResponse:
    target = f"{PREFIX}/applications/{quote(application.id, safe='')}?done={done}"
    return RedirectResponse(target, status_code=303)


@router.get("/applications/{application_id}/delete")
async def delete_page(application_id: str, request: Request, console: ConsoleDep) -> HTMLResponse:
    application = await _application(console, application_id)
    context = {
        "active": "applications",
        "app": application,
        "type_label": TYPES[application.type][0],
        "base": f"{PREFIX}/applications/{quote(application.id, safe='')}",
    }
    return render(request, "console/applications/delete.html", context, console=console)


@router.post("/applications/{application_id}/delete")
async def delete_application(
    application_id: str, console: ConsoleDep, _form: FormDep
) -> RedirectResponse:
    await console.services.applications.delete(console.tenant.id, application_id)
    return RedirectResponse(f"{PREFIX}/applications?done=deleted", status_code=303)


@router.post("/applications/{application_id}/secrets", response_model=None)
async def create_secret(
    application_id: str, request: Request, console: ConsoleDep, form: FormDep
) -> Response:
    application = await _application(console, application_id)
    name = str(form.get("secret_name", "")).strip()
    if not 1 <= len(name) <= MAX_NAME or "\x00" in name:
        problems = {"secret_name": f"Name the secret (up to {MAX_NAME} characters)."}
        return await _app_page(
            request, console, application, problems=problems, error=_summary(1), status_code=422
        )
    try:
        _, value = await console.services.applications.create_secret(
            console.tenant.id, application.id, name
        )
    except PhoneauthError as error:
        problems = {"secret_name": admin_sentence(error.code, error.details)}
        return await _app_page(
            request,
            console,
            application,
            problems=problems,
            error=_summary(1),
            status_code=error.status,
        )
    return await _app_page(
        request, console, application, new_secret=(value, name), notice="Secret created."
    )


@router.post("/applications/{application_id}/secrets/delete")
async def delete_secret(
    application_id: str, console: ConsoleDep, form: FormDep
) -> RedirectResponse:
    application = await _application(console, application_id)
    name = str(form.get("secret_name", ""))
    await console.services.applications.delete_secret(console.tenant.id, application.id, name)
    return _back_to(application, "secret-deleted")


@router.post("/applications/{application_id}/access")
async def change_access(
    application_id: str, console: ConsoleDep, form: FormDep
) -> RedirectResponse:
    """Give or take the Management API access role (machine-to-machine apps only)."""
    application = await _application(console, application_id)
    applications, tenant_id = console.services.applications, console.tenant.id
    role_id = MANAGEMENT_API_ACCESS_ROLE.id
    if form.get("action") == "take":
        if await applications.has_role(tenant_id, application.id, role_id):
            await applications.remove_role(tenant_id, application.id, role_id)
        return _back_to(application, "no-access")
    await applications.assign_roles(tenant_id, application.id, [role_id])
    return _back_to(application, "access")
