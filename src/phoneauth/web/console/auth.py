"""The console's door: create the first admin (with the setup token), sign in, sign out, switch
tenant."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phoneauth.domain.console_admins import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    AdminExistsError,
    InvalidCredentialsError,
    InvalidUsernameError,
    TooManyAttemptsError,
)
from phoneauth.domain.console_setup import InvalidSetupTokenError
from phoneauth.domain.passwords import PasswordRejectedError
from phoneauth.domain.tenants import DEFAULT_TENANT_ID
from phoneauth.web.console.support import (
    ANONYMOUS_CSRF_COOKIE,
    PREFIX,
    ConsoleDep,
    ConsoleRoute,
    FormDep,
    error_page,
    render,
)
from phoneauth.web.deps import services_of
from phoneauth.web.human_messages import admin_sentence
from phoneauth.wiring import Services

router = APIRouter(route_class=ConsoleRoute)


def _door(
    request: Request,
    services: Services,
    template: str,
    context: Mapping[str, object],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page shown before sign-in, with its double-submit CSRF token."""
    token, cookie = services.console.anonymous_csrf(request.cookies.get(ANONYMOUS_CSRF_COOKIE))
    response = render(request, template, {**context, "csrf": token}, status_code=status_code)
    response.set_cookie(ANONYMOUS_CSRF_COOKIE, cookie, path=PREFIX, httponly=True, samesite="lax")
    return response


async def _anonymous_form(request: Request, services: Services) -> dict[str, str]:
    form = await request.form()
    services.console.check_anonymous_csrf(
        request.cookies.get(ANONYMOUS_CSRF_COOKIE), form.get("csrf")
    )
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _signed_in(cookie: str, secure: bool) -> RedirectResponse:
    response = RedirectResponse(f"{PREFIX}/connectors", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


@router.get("")
@router.get("/")
async def console_home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/connectors", status_code=303)


@router.get("/setup", response_model=None)
async def setup_page(request: Request) -> Response:
    services = services_of(request)
    if not await services.console.needs_first_admin():
        return RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    return _door(request, services, "console/setup.html", {"username": "", "setup_token": ""})


@router.post("/setup", response_model=None)
async def setup(request: Request) -> Response:
    services = services_of(request)
    form = await _anonymous_form(request, services)
    username, password = form.get("username", "").strip(), form.get("password", "")
    token = form.get("setup_token", "").strip()
    if not await services.console.needs_first_admin():
        return _admin_exists(request)
    # Every field's problem at once, not the first one only.
    found = await services.console.first_admin_problems(username, password, token)
    # The token's sentence is the console's own; username and password say their rule.
    problems = {
        field: admin_sentence(error.code, error.details)
        if isinstance(error, InvalidSetupTokenError)
        else error.message
        for field, error in found.items()
    }
    if "password" not in problems and password != form.get("password_again", ""):
        problems["password_again"] = "The two passwords are not the same."
    try:
        if not problems:
            await services.console.create_first_admin(username, password, token)
    except AdminExistsError:
        return _admin_exists(request)
    except InvalidSetupTokenError as error:  # another browser used the token meanwhile
        problems["setup_token"] = admin_sentence(error.code, error.details)
    except (InvalidUsernameError, PasswordRejectedError) as error:
        problems["username" if isinstance(error, InvalidUsernameError) else "password"] = (
            error.message
        )
    if problems:
        # A token that was refused is not kept; one that was valid stays (a no-store page).
        context = {
            "username": username,
            "setup_token": "" if "setup_token" in problems else token,
            "problems": problems,
            "error": _summary(len(problems)),
        }
        status = 403 if "setup_token" in problems else 422
        return _door(request, services, "console/setup.html", context, status_code=status)
    _, cookie = await services.console.sign_in(username, password, DEFAULT_TENANT_ID)
    return _signed_in(cookie, request.url.scheme == "https")


def _summary(count: int) -> str:
    """The line above the form; the messages sit under their fields, below it."""
    if count == 1:
        return "One field needs your attention: see its message below."
    return f"{count} fields need your attention: see the messages below."


def _admin_exists(request: Request) -> HTMLResponse:
    return error_page(
        request,
        409,
        "The admin account exists",
        "Someone created the console's admin account already. Sign in with it.",
    )


@router.get("/sign-in", response_model=None)
async def sign_in_page(request: Request) -> Response:
    services = services_of(request)
    if await services.console.needs_first_admin():
        return RedirectResponse(f"{PREFIX}/setup", status_code=303)
    return _door(request, services, "console/sign_in.html", {"username": ""})


@router.post("/sign-in", response_model=None)
async def sign_in(request: Request) -> Response:
    services = services_of(request)
    form = await _anonymous_form(request, services)
    username = form.get("username", "").strip()
    try:
        _, cookie = await services.console.sign_in(
            username, form.get("password", ""), DEFAULT_TENANT_ID
        )
    except (InvalidCredentialsError, TooManyAttemptsError) as error:
        context = {"username": username, "error": admin_sentence(error.code, error.details)}
        return _door(request, services, "console/sign_in.html", context, status_code=error.status)
    return _signed_in(cookie, request.url.scheme == "https")


@router.post("/sign-out")
async def sign_out(console: ConsoleDep, _form: FormDep) -> RedirectResponse:
    await console.services.console.sign_out(console.session)
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="lax")
    return response


@router.post("/tenant")
async def switch_tenant(console: ConsoleDep, form: FormDep) -> RedirectResponse:
    """Remember the tenant in the session; come back to the page the switch was made on."""
    tenant = await console.services.tenants.get(str(form.get("tenant", "")))
    await console.services.console.select_tenant(console.session, tenant.id)
    back = str(form.get("back", ""))
    target = back if back.startswith(f"{PREFIX}/") and "//" not in back else f"{PREFIX}/connectors"
    return RedirectResponse(target, status_code=303)
