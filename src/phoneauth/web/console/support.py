"""What every console page shares: templates, the signed-in admin and tenant, CSRF, error pages.

Console routes use `ConsoleRoute`, which first refuses a form posted from another site (`origin`),
then turns what a handler raises into a page in words: a `PhoneauthError` into an error page with
its status, a missing session into a redirect to sign in, bad input into a 400 page. The console
never answers the JSON envelope or a stack.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from phoneauth import __version__
from phoneauth.domain.console_admins import SESSION_COOKIE, ConsoleSession, NotSignedInError
from phoneauth.domain.setup_problems import SmsSetupProblem
from phoneauth.domain.tenants import DEFAULT_TENANT_ID, Tenant, TenantNotFoundError
from phoneauth.errors import PhoneauthError
from phoneauth.web.console.origin import check_same_origin
from phoneauth.web.deps import services_of
from phoneauth.web.errors import page_answer, refused_body
from phoneauth.web.human_messages import admin_sentence
from phoneauth.web.pages import SECURITY_HEADERS, WEB, country_options
from phoneauth.web.phone_input import example_for
from phoneauth.web.static_assets import STATIC_ASSETS
from phoneauth.wiring import Services

log = logging.getLogger("phoneauth.console")

PREFIX = "/console"
ANONYMOUS_CSRF_COOKIE = "phoneauth_console_csrf"

templates = Jinja2Templates(directory=WEB / "templates")
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
templates.env.auto_reload = False  # shipped in the package: no stat of each file per render
templates.env.globals["admin_sentence"] = admin_sentence
templates.env.globals["static_url"] = STATIC_ASSETS.url
# The connector test form's country picker: the pages' options, rendered once per region.
templates.env.globals["country_options"] = country_options
templates.env.globals["phone_example"] = example_for

NAV = (
    ("connectors", "Connectors", f"{PREFIX}/connectors"),
    ("sign-in-experience", "Sign-in experience", f"{PREFIX}/sign-in-experience"),
    ("delivery", "Delivery", f"{PREFIX}/delivery"),
    ("protection", "Protection", f"{PREFIX}/protection"),
    ("message-log", "Message log", f"{PREFIX}/message-log"),
    ("applications", "Applications", f"{PREFIX}/applications"),
    ("tenants", "Tenants", f"{PREFIX}/tenants"),
)


class ConsoleRedirect(Exception):
    """Leave this page for `url` (303): sign-in needed, or the first admin still missing."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True, slots=True)
class Console:
    """The signed-in admin's view: the session, the selected tenant and every tenant."""

    services: Services
    session: ConsoleSession
    tenant: Tenant
    tenants: list[Tenant]
    sms_problem: SmsSetupProblem | None = None
    email_problem: tuple[str, ...] = ()
    """What of the sign-in experience needs the Email connector the tenant lacks."""

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    console: Console | None = None,
) -> HTMLResponse:
    base: dict[str, Any] = {"version": __version__, "nav": NAV, "prefix": PREFIX}
    if console is not None:
        base |= {
            "csrf": console.csrf,
            "username": console.session.username,
            "tenant": console.tenant,
            "tenants": console.tenants,
            "sms_problem": console.sms_problem,
            "email_problem": console.email_problem,
        }
    return templates.TemplateResponse(
        request, template, base | context, status_code=status_code, headers=SECURITY_HEADERS
    )


def error_page(request: Request, status: int, title: str, text: str) -> HTMLResponse:
    context = {"heading": title, "text": text, "signed_in": False}
    return render(request, "console/error.html", context, status_code=status)


_TITLES = {
    400: "Check your input",
    401: "Sign in again",
    403: "Not allowed",
    404: "Not found",
    413: "Too large",
}


class ConsoleRoute(APIRoute):
    """Every console answer is HTML: errors become a page in words, never JSON or a stack."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                # Before the handler reads the body or changes anything.
                services: Services = request.app.state.services
                check_same_origin(request, services.settings.public_url)
                return await handler(request)
            except ConsoleRedirect as redirect:
                return RedirectResponse(redirect.url, status_code=303)
            except RequestValidationError:
                return error_page(
                    request,
                    400,
                    "Check your input",
                    "This address or form is not one the "
                    "console understands. Go back and try again.",
                )
            except HTTPException as error:
                # Reading the form: the body limit (413) or Starlette's form parser (400).
                status = error.status_code
                text = refused_body(request).message if status == 413 else str(error.detail)
                title = _TITLES.get(status, "Something went wrong")
                return error_page(request, status, title, text)
            except PhoneauthError as error:
                status, headers = page_answer(error)
                title = _TITLES.get(status, "Something went wrong")
                text = admin_sentence(error.code, error.details)
                page = error_page(request, status, title, text)
                page.headers.update(headers)
                return page
            except Exception:
                correlation_id = uuid.uuid4().hex
                log.exception("console page failed %s", correlation_id)
                return error_page(
                    request,
                    500,
                    "Something went wrong",
                    "The page could not be shown. The administrator can find the cause in the "
                    f"server log by its correlation id {correlation_id}.",
                )

        return console_handler


async def get_console(request: Request) -> Console:
    """The signed-in admin, or a redirect to sign in (or to create the first admin)."""
    services = services_of(request)
    try:
        session = await services.console.authenticate(request.cookies.get(SESSION_COOKIE))
    except NotSignedInError:
        if await services.console.needs_first_admin():
            raise ConsoleRedirect(f"{PREFIX}/setup") from None
        raise ConsoleRedirect(f"{PREFIX}/sign-in") from None
    try:
        tenant = await services.tenants.get(session.tenant_id)
    except TenantNotFoundError:
        tenant = await services.tenants.get(DEFAULT_TENANT_ID)
    tenants = await services.tenants.store.list()
    # Read on every page (cached reads), so the warning stays until the admin has fixed it.
    problems = await services.sign_in_experience.setup_problems(tenant.id)
    return Console(
        services=services,
        session=session,
        tenant=tenant,
        tenants=tenants,
        sms_problem=problems.sms,
        email_problem=problems.email,
    )


ConsoleDep = Annotated[Console, Depends(get_console)]


async def checked_form(request: Request, console: ConsoleDep) -> FormData:
    """The posted form, once its CSRF token matched the session's."""
    form = await request.form()
    console.services.console.check_csrf(console.csrf, form.get("csrf"))
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def wants_fragment(request: Request) -> bool:
    """console.js posts some forms itself and asks for the part of the page that changes."""
    return request.headers.get("x-console-fetch") == "1"
