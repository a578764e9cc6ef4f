"""The end-user pages: sign in, register, reset a password, accept an invitation, the account.

Served at the root for the default tenant and under `/t/{tenant_id}`. Plain server-rendered
HTML (Jinja2) that shows only what the tenant's sign-in experience allows; the small scripts in
`static/` drive the Experience API from the browser, so the pages hold no state of their own.
Errors of the API are shown in words: the page embeds the end-user sentence of every error code
(`human_messages`), never the envelope's `message`; the pages themselves answer HTML, never the
JSON envelope.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from phoneauth.connectors import ConnectorError, mask_phone
from phoneauth.connectors.providers.outbox import FACTORY as OUTBOX_FACTORY
from phoneauth.connectors.providers.outbox_email import FACTORY as EMAIL_OUTBOX_FACTORY
from phoneauth.domain.account_center import FieldControl
from phoneauth.domain.organizations import (
    InvitationNotFoundError,
    InvitationStatus,
    OrganizationNotFoundError,
)
from phoneauth.domain.ports import ActiveConnector, ActiveEmailConnector
from phoneauth.domain.sessions import SESSION_COOKIE, NotSignedInError, Principal
from phoneauth.domain.sign_in_experience import SignInMode
from phoneauth.domain.tenants import Tenant, TenantNotFoundError
from phoneauth.errors import PhoneauthError
from phoneauth.web.content_coding import accepts_gzip
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.errors import page_answer
from phoneauth.web.human_messages import EMAIL_UNAVAILABLE as EMAIL_UNAVAILABLE
from phoneauth.web.human_messages import SMS_UNAVAILABLE as SMS_UNAVAILABLE
from phoneauth.web.human_messages import end_user_sentence
from phoneauth.web.oidc_cookie import AUTHORIZATION_COOKIE, clear_authorization_cookie
from phoneauth.web.page_options import PageOptions, sign_in_kinds, turned_off, unavailable
from phoneauth.web.phone_input import (
    FALLBACK_REGION,
    countries,
    default_region,
    example_for,
)
from phoneauth.web.rendered_pages import RenderedPages
from phoneauth.web.static_assets import STATIC_ASSETS
from phoneauth.wiring import Services

log = logging.getLogger("phoneauth.pages")

WEB = Path(__file__).parent
templates = Jinja2Templates(directory=WEB / "templates")
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
# The templates ship inside the package: no stat of every included file on every render.
templates.env.auto_reload = False


@lru_cache(maxsize=1)
def country_picker() -> tuple[str, dict[str, int]]:
    """The picker's options with none selected, rendered once, and where each option's tag ends
    (by region). Rendering them on each load was a sixth of a sign-in page's CPU; one rendering
    per preselected country took 24 KB each, 6 MB for all of them."""
    template = templates.get_template("pages/_country_options.html")
    options = template.render(countries=countries(), region=None).removesuffix("\n")
    # Ten names hold letters beyond ASCII (Curaçao, Côte d'Ivoire): as characters they made the
    # whole page a wide string, each join of it slower and its encoding to UTF-8 alone 30 µs;
    # as character references (`&#231;`) the browser shows the same and the page stays ASCII.
    options = options.encode("ascii", "xmlcharrefreplace").decode("ascii")
    # Names and attributes are escaped, so the first ">" after an option's start ends its tag.
    tag_ends = {
        country.region: options.index(">", options.index(f'<option value="{country.region}"'))
        for country in countries()
    }
    return options, tag_ends


def country_options(region: str) -> Markup:
    """The picker's options with `region` selected (none for a region not listed)."""
    options, tag_ends = country_picker()
    end = tag_ends.get(region)
    if end is not None:
        options = f"{options[:end]} selected{options[end:]}"
    return Markup(options)  # noqa: S704 - every value is escaped by the template


templates.env.globals["country_options"] = country_options
templates.env.globals["phone_example"] = example_for
templates.env.globals["static_url"] = STATIC_ASSETS.url


def warm_up() -> None:
    """Compile the pages' templates and list the countries before the first visitor: left to
    the first page load, that took about 200 ms while every request behind it waited."""
    for name in templates.env.list_templates(filter_func=lambda name: name.startswith("pages/")):
        templates.get_template(name)
    country_options(FALLBACK_REGION)


# Scripts and styles come only from /static: no inline code, so a strict policy holds.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    ),
    # Framed only by this origin (the console's live preview); older browsers read the header.
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

APP_ID = re.compile(r"[a-z0-9]{1,64}")  # an application id (`phoneauth.ids`)

ERROR_TITLES = {
    400: "Check the link",
    404: "Page not found",
    429: "Too many attempts",
    503: "Not available right now",
}


class PageRoute(APIRoute):
    """A page a person opened: an error no route turned into a page of its own (the database
    unreachable, a bug) is still a page in words (`human_messages`), never the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except PhoneauthError as error:
                status, headers = page_answer(error)
                page = _error_page(request, status, end_user_sentence(error.code))
                page.headers.update(headers)
                return page
            except (HTTPException, RequestValidationError, ClientDisconnect):
                raise  # the app's handlers answer these, as before
            except Exception:
                correlation_id = uuid.uuid4().hex
                log.exception("page failed %s", correlation_id)
                reference = f"If it keeps happening, give this reference: {correlation_id}."
                return _error_page(request, 500, f"Please try again. {reference}")

        return page_handler


def _error_page(request: Request, status: int, text: str) -> HTMLResponse:
    """Without the tenant: it may be what could not be read."""
    title = ERROR_TITLES.get(status, "Something went wrong")
    context = _base_context(request, None, None) | {"heading": title, "text": text, "link": None}
    return _render(request, "pages/message.html", context, status_code=status)


router = APIRouter(include_in_schema=False, route_class=PageRoute)


def tenant_prefix(request: Request) -> str:
    """`/t/acme` on a tenant's pages, `` on the default tenant's."""
    tenant_id = request.path_params.get("tenant_id")
    return f"/t/{tenant_id}" if tenant_id else ""


def _render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=SECURITY_HEADERS
    )


RENDERED = RenderedPages()


# The kept pages come compressed or not by what the browser takes: caches must tell them apart.
_KEPT_PAGE_HEADERS = SECURITY_HEADERS | {"Vary": "Accept-Encoding"}
_GZIPPED_PAGE_HEADERS = _KEPT_PAGE_HEADERS | {"Content-Encoding": "gzip"}


def _anonymous_page(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """A page every visitor with the same inputs sees alike (sign-in, registration, password
    reset): rendered once and kept (`rendered_pages`), gzip-compressed for browsers that take it."""
    page = RENDERED.render(templates.get_template(template), context)
    if accepts_gzip(request.headers.get("accept-encoding")):
        return HTMLResponse(page.gzipped, headers=_GZIPPED_PAGE_HEADERS)
    return HTMLResponse(page.body, headers=_KEPT_PAGE_HEADERS)


async def _message_page(
    request: Request,
    services: Services,
    title: str,
    text: str,
    *,
    status_code: int = 200,
    tenant: Tenant | None = None,
    link: tuple[str, str] | None = None,
) -> HTMLResponse:
    """A page that only says something: an unknown tenant, a used invitation, a closed door."""
    sms, email = await _active(services, tenant)
    context = _base_context(request, tenant, sms, email) | {
        "heading": title,
        "text": text,
        "link": link,
    }
    return _render(request, "pages/message.html", context, status_code=status_code)


async def message_page(
    request: Request,
    services: Services,
    title: str,
    text: str,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page that only says something, without the tenant's connectors (the OIDC endpoints)."""
    return await _message_page(request, services, title, text, status_code=status_code)


async def _active(
    services: Services, tenant: Tenant | None
) -> tuple[ActiveConnector | None, ActiveEmailConnector | None]:
    """The tenant's SMS and Email connectors; an Email connector whose stored settings no longer
    parse (a provider upgrade) counts as none, so the pages say so instead of failing."""
    if tenant is None:
        return None, None
    sms = await services.connectors.active_sms_connector(tenant.id)
    try:
        email = await services.connectors.active_email_connector(tenant.id)
    except ConnectorError:
        email = None
    return sms, email


_OUTBOX_BANNER = {
    (True, False): "Development tenant: codes go to the outbox, not to real phones.",
    (False, True): "Development tenant: codes go to the outbox, not to real inboxes.",
    (True, True): "Development tenant: codes go to the outbox, not to real phones or inboxes.",
}


def _app_query(request: Request) -> str:
    """`?app_id=...` while the person signs in for an app, kept on the links between pages."""
    app_id = request.query_params.get("app_id", "")
    return f"?{urlencode({'app_id': app_id})}" if APP_ID.fullmatch(app_id) else ""


def _for_app(request: Request, response: HTMLResponse) -> HTMLResponse:
    """A sign-in page opened without `app_id` is not on the way from an app: forget any app
    sign-in left unfinished, so it cannot capture this one."""
    if not _app_query(request) and AUTHORIZATION_COOKIE in request.cookies:
        clear_authorization_cookie(response)
    return response


def _base_context(
    request: Request,
    tenant: Tenant | None,
    sms: ActiveConnector | None,
    email: ActiveEmailConnector | None = None,
) -> dict[str, Any]:
    base = tenant_prefix(request)
    # Whether codes really stay in the outbox, not the tenant's kind: a development tenant on a
    # real provider sends real messages, and its pages must not say otherwise.
    outboxes = (
        sms is not None and sms.factory_id == OUTBOX_FACTORY.id,
        email is not None and email.factory_id == EMAIL_OUTBOX_FACTORY.id,
    )
    return {
        "base": base,
        "app_query": _app_query(request),
        "api": f"{base}/api",
        "tenant_name": tenant.name if tenant is not None else "phoneauth",
        "outbox_banner": _OUTBOX_BANNER.get(outboxes),
        # Set: the SMS carries the origin-bound line, and the pages load static/web_otp.js.
        "web_otp_domain": tenant.settings.web_otp_domain if tenant is not None else None,
    }


async def _context(
    request: Request, services: Services, tenant: Tenant
) -> tuple[dict[str, Any], PageOptions]:
    experience = await services.sign_in_experience.current(tenant.id)
    sms, email = await _active(services, tenant)
    options = PageOptions.of(experience, sms is not None, email is not None)
    region = default_region(request.headers.get("accept-language"))
    context = (
        _base_context(request, tenant, sms, email)
        | options.template_values()
        | {
            "region": region,
            "sign_in_kinds": sign_in_kinds(experience),
            "mode": experience.sign_in_mode,
        }
    )
    return context, options


async def _tenant(request: Request, services: Services) -> Tenant | HTMLResponse:
    try:
        return await services.tenants.get(tenant_id_of(request))
    except TenantNotFoundError:
        return await _message_page(
            request,
            services,
            "Page not found",
            "There is no sign-in page at this address. Check the link you followed.",
            status_code=404,
        )


@router.get("/")
async def home(request: Request) -> RedirectResponse:
    """Where a finished sign-in lands without `redirectTo`: the account page."""
    return RedirectResponse(f"{tenant_prefix(request)}/account", status_code=303)


@router.get("/sign-in")
async def sign_in_page(request: Request) -> HTMLResponse:
    services = services_of(request)
    tenant = await _tenant(request, services)
    if isinstance(tenant, HTMLResponse):
        return tenant
    context, options = await _context(request, services, tenant)
    if not options.sign_in_open:
        link = (f"{context['base']}/register", "Create an account")
        closed = context["mode"] is SignInMode.REGISTER or not options.sign_in_waiting
        return await _message_page(
            request,
            services,
            "Sign-in is not available",
            turned_off(context["sign_in_kinds"])
            if closed
            else unavailable(options.sign_in_waiting),
            tenant=tenant,
            link=link if options.register_open else None,
        )
    page = _anonymous_page(request, "pages/sign_in.html", context | options.page_values("sign-in"))
    return _for_app(request, page)


@router.get("/register")
async def register_page(request: Request) -> HTMLResponse:
    services = services_of(request)
    tenant = await _tenant(request, services)
    if isinstance(tenant, HTMLResponse):
        return tenant
    context, options = await _context(request, services, tenant)
    if not options.register_open:
        link = (f"{context['base']}/sign-in", "Sign in")
        closed = context["mode"] is SignInMode.SIGN_IN or not options.register_waiting
        return await _message_page(
            request,
            services,
            "Registration is closed",
            "New accounts cannot be created here. If you have an account, sign in."
            if closed
            else unavailable(options.register_waiting),
            tenant=tenant,
            link=link if options.sign_in_open else None,
        )
    page = _anonymous_page(
        request, "pages/register.html", context | options.page_values("register")
    )
    return _for_app(request, page)


@router.get("/forgot-password")
async def forgot_password_page(request: Request) -> HTMLResponse:
    services = services_of(request)
    tenant = await _tenant(request, services)
    if isinstance(tenant, HTMLResponse):
        return tenant
    context, options = await _context(request, services, tenant)
    if not options.forgot_password:
        return await _message_page(
            request,
            services,
            "Password reset is not available",
            unavailable(options.forgot_waiting)
            if options.forgot_waiting
            else "Passwords cannot be reset here. Contact the service's support.",
            tenant=tenant,
            link=(f"{context['base']}/sign-in", "Back to sign-in"),
        )
    page = context | options.page_values("forgot-password")
    return _anonymous_page(request, "pages/forgot_password.html", page)


_CLOSED_INVITATION = {
    InvitationStatus.ACCEPTED: "This invitation has already been accepted.",
    InvitationStatus.REVOKED: "This invitation has been withdrawn.",
    InvitationStatus.EXPIRED: "This invitation has expired. Ask for a new one.",
}


@router.get("/invitations/{invitation_id}")
async def invitation_page(invitation_id: str, request: Request) -> HTMLResponse:
    services = services_of(request)
    tenant = await _tenant(request, services)
    if isinstance(tenant, HTMLResponse):
        return tenant
    try:
        invitation = await services.organizations.get_invitation(tenant.id, invitation_id)
        organization = await services.organizations.get(tenant.id, invitation.organization_id)
    except (InvitationNotFoundError, OrganizationNotFoundError):
        return await _message_page(
            request,
            services,
            "Invitation not found",
            "This invitation does not exist. Check the link you were sent.",
            status_code=404,
            tenant=tenant,
        )
    status = invitation.status_at(services.organizations.clock())
    if status is not InvitationStatus.PENDING:
        return await _message_page(
            request,
            services,
            f"Join {organization.name}",
            _CLOSED_INVITATION[status],
            tenant=tenant,
            link=(f"{tenant_prefix(request)}/sign-in", "Sign in"),
        )
    context, _ = await _context(request, services, tenant)
    return _render(
        request,
        "pages/invitation.html",
        context
        | {
            "flow": "invitation",
            "invitation_id": invitation.id,
            "organization": organization.name,
            "masked_phone": mask_phone(invitation.phone),
        },
    )


@router.post("/sign-in")
@router.post("/register")
@router.post("/forgot-password")
@router.post("/invitations/{invitation_id}")
async def form_without_script(request: Request) -> RedirectResponse:
    """A form sent before its script ran, or with JavaScript off: show the page again (the
    forms post, so a password never lands in a URL; the body is dropped unread)."""
    return RedirectResponse(request.url.path, status_code=303)


async def _principal(request: Request, services: Services) -> Principal | None:
    try:
        return await services.sessions.authenticate(
            tenant_id_of(request), cookie=request.cookies.get(SESSION_COOKIE)
        )
    except NotSignedInError:
        return None


def display_phone(e164: str | None) -> str | None:
    """`+49 1511 2345678`: the international format, easier to check than E.164."""
    if e164 is None:
        return None
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@router.get("/account", response_model=None)
async def account_page(
    request: Request, joined: str | None = None
) -> HTMLResponse | RedirectResponse:
    """The signed-in landing page; anyone else is sent to sign in."""
    services = services_of(request)
    tenant = await _tenant(request, services)
    if isinstance(tenant, HTMLResponse):
        return tenant
    sign_in = RedirectResponse(f"{tenant_prefix(request)}/sign-in", status_code=303)
    principal = await _principal(request, services)
    if principal is None:
        return sign_in
    user = await services.users.get(tenant.id, principal.user_id)
    if user is None:
        return sign_in
    joined_name = None
    if joined and len(joined) <= 64:
        # Named only to a member: an organization id in a link reveals nothing to anyone else.
        organization = await services.organizations.store.get(tenant.id, joined)
        if organization is not None and await services.organizations.store.is_member(
            tenant.id, organization.id, user.id
        ):
            joined_name = organization.name
    active, email = await _active(services, tenant)
    email_available = email is not None
    experience = await services.sign_in_experience.current(tenant.id)
    editable = {name: _editable(tenant, name) for name in ("phone", "email", "password")}
    context = _base_context(request, tenant, active, email) | {
        "user": user,
        "phone": display_phone(user.phone),
        "joined": joined_name,
        # A change starts by proving it is you (a code to the current phone or address, or the
        # password), and only what the tenant's account center lets end users edit is offered
        # (Logto's gate).
        "sms_available": active is not None,
        "email_available": email_available,
        "can_change_phone": editable["phone"],
        "can_change_email": editable["email"] and email_available,
        "can_change_password": editable["password"],
        "change_heading": _change_heading(user.has_password, editable, email_available),
        "password_min_length": experience.password_policy.length.min,
        "region": default_region(request.headers.get("accept-language")),
    }
    return _render(request, "pages/account.html", context)


def _editable(tenant: Tenant, field: str) -> bool:
    center = tenant.settings.account_center
    return center.enabled and center.control(field) is FieldControl.EDIT


def _change_heading(has_password: bool, editable: dict[str, bool], email_available: bool) -> str:
    """ "Change your phone number, email address or password", naming only what is offered."""
    things = [
        name
        for name, offered in (
            ("phone number", editable["phone"]),
            ("email address", editable["email"] and email_available),
            ("password", editable["password"]),
        )
        if offered
    ]
    if things == ["password"] and not has_password:
        return "Set a password"
    if len(things) < 2:
        return "Change your " + "".join(things)
    return "Change your " + ", ".join(things[:-1]) + " or " + things[-1]


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    """Ends the session (the cookie stops working at once) and goes back to sign-in."""
    services = services_of(request)
    principal = await _principal(request, services)
    if principal is not None:
        await services.sessions.sign_out(principal)
    base = tenant_prefix(request)
    response = RedirectResponse(f"{base}/sign-in", status_code=303)
    # The Experience API sets the cookie on `/`, invitation acceptance on the tenant's prefix.
    for path in {"/", base or "/"}:
        response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, samesite="lax")
    return response
