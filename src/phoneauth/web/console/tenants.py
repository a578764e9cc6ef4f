"""Console: Tenants: list, create, switch, change a tenant's kind, and migrate one tenant's
configuration into another.

The migration is `domain/tenant_migration.py`, the same export and import the CLI and the
Management API run: a preview shows the diff, "Apply" imports. The preview carries the pair it
showed and keyed fingerprints of both configurations; "Apply" refuses (and shows the new diff)
when the selection or either configuration changed since.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from phoneauth.domain.connector_management import MASKED_SECRET_PROBLEM
from phoneauth.domain.tenant_kinds import DevelopmentConnectorInUseError, TenantKinds
from phoneauth.domain.tenant_migration import FieldChange, TenantMigration, fingerprint
from phoneauth.domain.tenants import TenantExistsError, TenantKind
from phoneauth.errors import PhoneauthError
from phoneauth.web.console.connector_forms import form_fields, labels_of
from phoneauth.web.console.migration_diff import change_groups
from phoneauth.web.console.support import PREFIX, Console, ConsoleDep, ConsoleRoute, FormDep, render
from phoneauth.web.human_messages import admin_sentence, describe, subject_of
from phoneauth.wiring import Services

router = APIRouter(route_class=ConsoleRoute)

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,20}$")
"""The Management API's rule for tenant ids (`TenantCreate`)."""


def migration(services: Services) -> TenantMigration:
    return TenantMigration(services.tenants, services.connectors, services.sign_in_experience)


def _tenants_page(
    request: Request,
    console: Console,
    *,
    error: str | None = None,
    notice: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "active": "tenants",
        "error": error,
        "notice": notice,
        "form": form or {"id": "", "name": "", "kind": "development"},
    }
    return render(
        request, "console/tenants/list.html", context, console=console, status_code=status_code
    )


@router.get("/tenants")
async def tenants_page(request: Request, console: ConsoleDep, done: str = "") -> HTMLResponse:
    notices = {
        "created": "Tenant created; the console now shows it.",
        "migrated": "Migrated. The target tenant uses the new configuration now.",
        "production": "Saved. The tenant is a production tenant now.",
        "development": "Saved. The tenant is a development tenant now.",
    }
    return _tenants_page(request, console, notice=notices.get(done))


@router.post("/tenants/{tenant_id}/kind", response_model=None)
async def change_kind(
    tenant_id: str, request: Request, console: ConsoleDep, form: FormDep
) -> Response:
    """The tenant named in the address, not the selected one: another tab may have switched."""
    kind = str(form.get("kind", ""))
    if kind not in {k.value for k in TenantKind}:
        return _tenants_page(
            request, console, error="Kind: choose development or production.", status_code=422
        )
    kinds = TenantKinds(console.services.tenants, console.services.connectors)
    try:
        await kinds.change(tenant_id, TenantKind(kind))
    except DevelopmentConnectorInUseError:
        error = (
            "Kind: a production tenant cannot send codes through the development outbox. "
            "Change the SMS connector to a real provider under Connectors first, then save "
            "the kind again."
        )
        return _tenants_page(request, console, error=error, status_code=409)
    return RedirectResponse(f"{PREFIX}/tenants?done={kind}", status_code=303)


@router.post("/tenants", response_model=None)
async def create_tenant(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    values = {key: str(form.get(key, "")).strip() for key in ("id", "name", "kind")}
    error = None
    if not TENANT_ID.fullmatch(values["id"]):
        error = (
            "Use 2 to 21 lower-case letters, digits or dashes for the id, "
            "starting with a letter or digit."
        )
    elif not 1 <= len(values["name"]) <= 128:
        error = "Give the tenant a name (up to 128 characters)."
    elif values["kind"] not in {k.value for k in TenantKind}:
        error = "Choose development or production."
    if error:
        return _tenants_page(request, console, error=error, form=values, status_code=422)
    try:
        tenant = await console.services.tenants.create(
            values["id"], values["name"], TenantKind(values["kind"])
        )
    except TenantExistsError:
        return _tenants_page(
            request,
            console,
            error=f"A tenant with id {values['id']} exists already.",
            form=values,
            status_code=409,
        )
    await console.services.console.select_tenant(console.session, tenant.id)
    return RedirectResponse(f"{PREFIX}/tenants?done=created", status_code=303)


@dataclass(frozen=True, slots=True)
class _Choice:
    source: str
    target: str
    include_secrets: bool


@dataclass(frozen=True, slots=True)
class _Preview:
    """What a preview showed, carried in the form so that "Apply" applies exactly that."""

    choice: _Choice
    source_fingerprint: str
    target_fingerprint: str


def _migrate_page(
    request: Request,
    console: Console,
    choice: _Choice,
    *,
    changes: list[FieldChange] | None = None,
    preview: _Preview | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "active": "tenants",
        "source": choice.source,
        "target": choice.target,
        "include_secrets": choice.include_secrets,
        "changes": None if changes is None else change_groups(changes),
        "preview": preview,
        "error": error,
    }
    return render(
        request, "console/tenants/migrate.html", context, console=console, status_code=status_code
    )


def _labels(services: Services, factory_id: str | None) -> dict[str, str]:
    """The connector form's labels, to name a refused field as the admin sees it."""
    if factory_id is None:
        return {}
    try:
        factory = services.connectors.factory(factory_id)
    except PhoneauthError:
        return {}
    return labels_of(form_fields(factory, None))


def _refusal(error: PhoneauthError, page: _Choice, labels: dict[str, str]) -> str:
    """Why the import was refused, in words; a secret left behind says how to bring it."""
    found = error.details.get("errors")
    problems = [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []
    secrets = [p for p in problems if p.get("message") == MASKED_SECRET_PROBLEM]
    others = [describe(p, labels) for p in problems if p not in secrets]
    sentences = [] if secrets and not others else [admin_sentence(error.code, error.details)]
    if secrets:
        names = " and ".join(subject_of(str(p.get("field", "")), labels) for p in secrets)
        sentences.append(
            f"The tenant “{page.target}” has no saved {names} of its own to keep, and secrets "
            f"were not copied. Tick “Include secrets” to copy them from “{page.source}”, or "
            f"set up the {_kind(error)} connector on “{page.target}” first."
        )
    return "The migration cannot be applied. " + " ".join(sentences + others)


def _kind(error: PhoneauthError) -> str:
    return "Email" if error.details.get("type") == "Email" else "SMS"


@router.get("/tenants/migrate")
async def migrate_page(request: Request, console: ConsoleDep) -> HTMLResponse:
    """From the tenant the admin is looking at, into a production tenant (another one first)."""
    source = console.tenant.id
    others = [t for t in console.tenants if t.id != source]
    target = next((t.id for t in others if t.is_production), others[0].id if others else "")
    return _migrate_page(request, console, _Choice(source, target, include_secrets=False))


async def _export_and_fingerprints(
    console: Console, choice: _Choice
) -> tuple[dict[str, Any], tuple[str, str]]:
    """The source's export to import, and fingerprints of it and of the target as the diff
    compares it (secrets included). Keyed with the session's hash, which no page shows."""
    tool, key = migration(console.services), console.session.token_hash.encode()
    source = await tool.export(choice.source, include_secrets=choice.include_secrets)
    target = await tool.export(choice.target, include_secrets=True)
    return source, (fingerprint(source, key), fingerprint(target, key))


def _previewed(form: Any) -> _Preview | None:
    values = [str(form.get(f"previewed_{name}", "")) for name in ("source", "target")]
    prints = [str(form.get(f"{name}_fingerprint", "")) for name in ("source", "target")]
    if not all(values) or not all(prints):
        return None
    choice = _Choice(values[0], values[1], form.get("previewed_secrets") == "on")
    return _Preview(choice, prints[0], prints[1])


def _stale(preview: _Preview | None, choice: _Choice, prints: tuple[str, str]) -> str | None:
    """Why "Apply" must not apply this selection now; None when it is what the admin saw."""
    if preview is None:
        return "Show the changes first: Apply applies only what a preview showed you."
    if preview.choice != choice:
        return (
            "The selection changed after the preview, so nothing was applied. The changes "
            f"for {choice.source} into {choice.target} are shown below: check them, then "
            "apply again."
        )
    if preview.source_fingerprint != prints[0]:
        return (
            f"The configuration of {choice.source} changed since the preview, so nothing was "
            "applied. The changes below are the current ones: check them, then apply again."
        )
    if preview.target_fingerprint != prints[1]:
        return (
            f"The configuration of {choice.target} changed since the preview, so nothing was "
            "applied. The changes below are the current ones: check them, then apply again."
        )
    return None


@router.post("/tenants/migrate", response_model=None)
async def migrate(request: Request, console: ConsoleDep, form: FormDep) -> Response:
    source, target = str(form.get("source", "")), str(form.get("target", ""))
    include_secrets = form.get("include_secrets") == "on"
    apply = form.get("action") == "apply"
    page = _Choice(source, target, include_secrets)
    if source == target:
        return _migrate_page(
            request, console, page, error="Choose two different tenants.", status_code=422
        )
    tool = migration(console.services)
    export: dict[str, Any] = {}
    try:
        export, prints = await _export_and_fingerprints(console, page)
        stale = _stale(_previewed(form), page, prints) if apply else None
        result = await tool.import_(target, export, dry_run=not apply or stale is not None)
    except PhoneauthError as error:
        # The connector the refusal is about (`details.type`), to name its fields by label.
        key = "emailConnector" if error.details.get("type") == "Email" else "connector"
        connector = export.get(key) or {}
        labels = _labels(console.services, connector.get("connectorId"))
        return _migrate_page(
            request,
            console,
            page,
            error=_refusal(error, page, labels),
            status_code=error.status,
        )
    if result.applied:
        return RedirectResponse(f"{PREFIX}/tenants?done=migrated", status_code=303)
    preview = _Preview(page, *prints)
    return _migrate_page(
        request,
        console,
        page,
        changes=result.changes,
        preview=preview,
        error=stale,
        status_code=409 if stale else 200,
    )
