"""Copy a tenant's configuration into another: export, the diff an import would make, import.

What moves: the SMS connector (factory and config, its templates included; secrets only when
the operator opts in, masked otherwise) and the sign-in experience. The same module serves the
CLI (`phoneauth tenants export|import`), the Management API (`/api/tenants/{id}/export|import`)
and the console's "migrate" page. An import checks everything the real changes would check
(a production tenant refuses the outbox, the connector's config, Logto's sign-in rules) before it
changes anything, and a dry run stops there and answers the diff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phoneauth.connectors import secret_fields
from phoneauth.domain import sign_in_experience_rules as rules
from phoneauth.domain.connector_configs import SECRET_MASK
from phoneauth.domain.connector_management import ConnectorManagement
from phoneauth.domain.sign_in_experience import (
    DOCUMENT_KEYS,
    SignInExperience,
    SignInExperiences,
)
from phoneauth.domain.tenants import Tenants
from phoneauth.errors import PhoneauthError

EXPORT_FORMAT = "phoneauth.tenant-export/1"


class InvalidExportError(PhoneauthError):
    """The file is not a phoneauth tenant export; `details.errors` names each problem."""

    code = "tenant.invalid_export"
    status = 400


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ExportedTenant(_Strict):
    id: str
    kind: str


class ExportedConnector(_Strict):
    connector_id: str = Field(alias="connectorId", min_length=1, max_length=128)
    config: dict[str, Any] = Field(default_factory=dict)


class TenantExport(_Strict):
    """The export file; the connector's secrets read `**********` unless `includesSecrets`."""

    format: Literal["phoneauth.tenant-export/1"]
    tenant: ExportedTenant
    includes_secrets: bool = Field(alias="includesSecrets")
    connector: ExportedConnector | None
    sign_in_experience: SignInExperience = Field(alias="signInExperience")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One setting an import changes; secrets are shown as the mask, never in clear."""

    path: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class ImportResult:
    changes: list[FieldChange]
    applied: bool


def parse_export(data: object) -> TenantExport:
    try:
        return TenantExport.model_validate(data)
    except ValidationError as error:
        problems = [
            {
                "field": ".".join(str(part) for part in issue["loc"]) or "(file)",
                "message": issue["msg"],
            }
            for issue in error.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise InvalidExportError(errors=problems) from None


def _template_key(template: Any, index: int) -> str:
    if isinstance(template, dict) and template.get("usageType"):
        locale = template.get("locale")
        return f"{template['usageType']}" + (f" ({locale})" if locale else "")
    return str(index)


def _flatten_connector(connector: ExportedConnector | None) -> dict[str, Any]:
    """`connector.*` paths, each template by its usage type (and locale)."""
    if connector is None:
        return {"connector": None}
    flat: dict[str, Any] = {"connector.connectorId": connector.connector_id}
    for key, value in connector.config.items():
        if key == "templates" and isinstance(value, list):
            for index, template in enumerate(value):
                flat[f"connector.templates.{_template_key(template, index)}"] = template
        else:
            flat[f"connector.config.{key}"] = value
    return flat


def fingerprint(document: object, key: bytes) -> str:
    """A keyed digest of an export: equal documents, equal fingerprints. A preview carries it
    so that "apply" can refuse a configuration that changed since; the key keeps the secrets in
    the document from being guessed from a digest shown in a page."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def _same(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True, default=str) == json.dumps(
        right, sort_keys=True, default=str
    )


class TenantMigration:
    """Export and import of a tenant's configuration over the domain services."""

    def __init__(
        self, tenants: Tenants, connectors: ConnectorManagement, experiences: SignInExperiences
    ) -> None:
        self.tenants = tenants
        self.connectors = connectors
        self.experiences = experiences

    async def export(self, tenant_id: str, *, include_secrets: bool = False) -> dict[str, Any]:
        """The tenant's configuration as JSON; secrets masked unless `include_secrets`."""
        tenant = await self.tenants.get(tenant_id)
        saved = await self.connectors.saved_config(tenant.id, reveal_secrets=include_secrets)
        connector = None if saved is None else {"connectorId": saved[0], "config": saved[1]}
        document = await self.experiences.current(tenant.id)
        return {
            "format": EXPORT_FORMAT,
            "tenant": {"id": tenant.id, "kind": tenant.kind.value},
            "includesSecrets": include_secrets,
            "connector": connector,
            "signInExperience": document.model_dump(mode="json", by_alias=True),
        }

    async def diff(self, tenant_id: str, export: TenantExport) -> list[FieldChange]:
        """What importing `export` into the tenant would change, field by field. Secrets are
        compared in clear here and shown only as the mask."""
        before = parse_export(await self.export(tenant_id, include_secrets=True))
        flat_before, flat_after = self._flatten(before), self._flatten(export)
        keys = self._secret_keys(export) | self._secret_keys(before)
        secrets = {f"connector.config.{key}" for key in keys}
        changes = []
        for path in dict.fromkeys([*flat_before, *flat_after]):
            old, new = flat_before.get(path), flat_after.get(path)
            if path == "connector" and export.connector is None:
                continue  # an export without a connector leaves the target's alone
            if path in secrets and new == SECRET_MASK and old is not None:
                continue  # the mask keeps the target's own secret
            if not _same(old, new):
                if path in secrets:
                    old = None if old is None else SECRET_MASK
                    new = None if new is None else SECRET_MASK
                changes.append(FieldChange(path, old, new))
        return changes

    def _secret_keys(self, export: TenantExport) -> set[str]:
        connector = export.connector
        if connector is None or connector.connector_id not in self.connectors.registry:
            return set()
        return set(secret_fields(self.connectors.registry.get(connector.connector_id).config_model))

    def _flatten(self, export: TenantExport) -> dict[str, Any]:
        flat = _flatten_connector(export.connector)
        document = export.sign_in_experience.model_dump(mode="json", by_alias=True)
        flat |= {f"signInExperience.{key}": value for key, value in document.items()}
        return flat

    async def import_(self, tenant_id: str, data: object, *, dry_run: bool = False) -> ImportResult:
        """Check everything, then (unless `dry_run`) save the connector and the sign-in
        experience; the answer lists the changes either way.

        Raises:
            InvalidExportError: not an export file.
            DevelopmentOnlyError: a production tenant and the outbox connector.
            InvalidConfigError: the connector's config, e.g. secrets left out of the export
                for a tenant that has none of its own to keep.
            rules.SignInExperienceRuleError: the sign-in experience breaks a rule there.
        """
        export = parse_export(data)
        tenant = await self.tenants.get(tenant_id)
        changes = await self.diff(tenant.id, export)
        if export.connector is not None:
            await self.connectors.check(
                tenant, export.connector.connector_id, export.connector.config
            )
        has_sms = (
            export.connector is not None
            or await self.connectors.active_sms_connector(tenant.id) is not None
        )
        fields = {DOCUMENT_KEYS[key] for key in DOCUMENT_KEYS}
        rules.check_changes(export.sign_in_experience, fields, has_sms=has_sms)
        if dry_run:
            return ImportResult(changes, applied=False)
        if export.connector is not None:
            await self.connectors.create(
                tenant, export.connector.connector_id, export.connector.config
            )
        changed = {name: getattr(export.sign_in_experience, name) for name in fields}
        await self.experiences.update(tenant.id, changed, self.connectors)
        return ImportResult(changes, applied=True)
