"""Copy a tenant's configuration into another: export, the diff an import would make, import.

What moves: the SMS connector and the Email connector (factory and config, templates included;
secrets only when the operator opts in, masked otherwise) and the sign-in experience. The same
module serves the CLI (`phoneauth tenants export|import`), the Management API
(`/api/tenants/{id}/export|import`) and the console's "migrate" page. An import checks everything
the real changes would check (a production tenant refuses the outbox, each connector's config,
Logto's sign-in rules) before it changes anything, and a dry run stops there and answers the diff.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from phoneauth.connectors import ConnectorType, secret_fields
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
    """The export file; the connectors' secrets read `**********` unless `includesSecrets`.

    `connector` is the SMS connector (the key predates email); `emailConnector` may be left
    out, as files written before it were. Either one null or absent leaves the target's alone.
    """

    format: Literal["phoneauth.tenant-export/1"]
    tenant: ExportedTenant
    includes_secrets: bool = Field(alias="includesSecrets")
    connector: ExportedConnector | None
    email_connector: ExportedConnector | None = Field(default=None, alias="emailConnector")
    sign_in_experience: SignInExperience = Field(alias="signInExperience")

    def connectors(self) -> dict[str, ExportedConnector | None]:
        """Each connector by its key in the file (and path prefix in a diff)."""
        return {
            KEYS[ConnectorType.SMS]: self.connector,
            KEYS[ConnectorType.EMAIL]: self.email_connector,
        }


KEYS = {ConnectorType.SMS: "connector", ConnectorType.EMAIL: "emailConnector"}
"""The export's key for each kind of connector."""


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


def _flatten_connector(
    key: str, connector: ExportedConnector | None, secrets: set[str]
) -> dict[str, Any]:
    """`<key>.*` paths, each template by its usage type (and locale). An object that holds a
    secret (SMTP's `auth`) is spread into its fields, so the secret has a path of its own."""
    if connector is None:
        return {key: None}
    flat: dict[str, Any] = {f"{key}.connectorId": connector.connector_id}
    for name, value in connector.config.items():
        if name == "templates" and isinstance(value, list):
            for index, template in enumerate(value):
                flat[f"{key}.templates.{_template_key(template, index)}"] = template
        else:
            flat |= _spread(f"{key}.config.{name}", name, value, secrets)
    return flat


def _spread(path: str, name: str, value: Any, secrets: set[str]) -> dict[str, Any]:
    holds_secret = any(secret.startswith(f"{name}.") for secret in secrets)
    if not holds_secret or not isinstance(value, dict):
        return {path: value}
    flat: dict[str, Any] = {}
    for inner, item in value.items():
        flat |= _spread(f"{path}.{inner}", f"{name}.{inner}", item, secrets)
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
        found: dict[str, Any] = {}
        for kind, key in KEYS.items():
            saved = await self.connectors.saved_config(
                tenant.id, reveal_secrets=include_secrets, connector_type=kind.value
            )
            found[key] = None if saved is None else {"connectorId": saved[0], "config": saved[1]}
        document = await self.experiences.current(tenant.id)
        return {
            "format": EXPORT_FORMAT,
            "tenant": {"id": tenant.id, "kind": tenant.kind.value},
            "includesSecrets": include_secrets,
            **found,
            "signInExperience": document.model_dump(mode="json", by_alias=True),
        }

    async def diff(self, tenant_id: str, export: TenantExport) -> list[FieldChange]:
        """What importing `export` into the tenant would change, field by field. Secrets are
        compared in clear here and shown only as the mask."""
        before = parse_export(await self.export(tenant_id, include_secrets=True))
        secrets: set[str] = set()
        flat_before: dict[str, Any] = {}
        flat_after: dict[str, Any] = {}
        for key, connector in export.connectors().items():
            current = before.connectors()[key]
            keys = self._secret_keys(connector) | self._secret_keys(current)
            secrets |= {f"{key}.config.{name}" for name in keys}
            flat_before |= _flatten_connector(key, current, keys)
            flat_after |= _flatten_connector(key, connector, keys)
        flat_before |= self._flatten_document(before)
        flat_after |= self._flatten_document(export)
        left_alone = {key for key, connector in export.connectors().items() if connector is None}
        changes = []
        for path in dict.fromkeys([*flat_before, *flat_after]):
            old, new = flat_before.get(path), flat_after.get(path)
            if path.split(".", 1)[0] in left_alone:
                continue  # an export without a connector leaves the target's alone
            if path in secrets and new == SECRET_MASK and old is not None:
                continue  # the mask keeps the target's own secret
            if not _same(old, new):
                if path in secrets:
                    old = None if old is None else SECRET_MASK
                    new = None if new is None else SECRET_MASK
                changes.append(FieldChange(path, old, new))
        return changes

    def _secret_keys(self, connector: ExportedConnector | None) -> set[str]:
        if connector is None or connector.connector_id not in self.connectors.registry:
            return set()
        return set(secret_fields(self.connectors.registry.get(connector.connector_id).config_model))

    @staticmethod
    def _flatten_document(export: TenantExport) -> dict[str, Any]:
        document = export.sign_in_experience.model_dump(mode="json", by_alias=True)
        return {f"signInExperience.{key}": value for key, value in document.items()}

    async def import_(self, tenant_id: str, data: object, *, dry_run: bool = False) -> ImportResult:
        """Check everything, then (unless `dry_run`) save the connectors and the sign-in
        experience; the answer lists the changes either way.

        Raises:
            InvalidExportError: not an export file.
            DevelopmentOnlyError: a production tenant and the outbox connector.
            InvalidConfigError: a connector's config, e.g. secrets left out of the export
                for a tenant that has none of its own to keep; `details.type` says which
                connector (`Sms` or `Email`).
            rules.SignInExperienceRuleError: the sign-in experience breaks a rule there.
        """
        export = parse_export(data)
        tenant = await self.tenants.get(tenant_id)
        changes = await self.diff(tenant.id, export)
        present: dict[ConnectorType, bool] = {}
        for kind, key in KEYS.items():
            connector = export.connectors()[key]
            if connector is None:
                present[kind] = await self._has_active(tenant.id, kind)
                continue
            try:
                await self.connectors.check(tenant, connector.connector_id, connector.config)
            except PhoneauthError as error:
                error.details.setdefault("type", kind.value)  # which of the two connectors
                raise
            present[kind] = True
        fields = {DOCUMENT_KEYS[key] for key in DOCUMENT_KEYS}
        rules.check_changes(
            export.sign_in_experience,
            fields,
            has_sms=present[ConnectorType.SMS],
            has_email=present[ConnectorType.EMAIL],
        )
        if dry_run:
            return ImportResult(changes, applied=False)
        for connector in export.connectors().values():
            if connector is not None:
                await self.connectors.create(tenant, connector.connector_id, connector.config)
        changed = {name: getattr(export.sign_in_experience, name) for name in fields}
        await self.experiences.update(tenant.id, changed, self.connectors)
        return ImportResult(changes, applied=True)

    async def _has_active(self, tenant_id: str, kind: ConnectorType) -> bool:
        if kind is ConnectorType.SMS:
            return await self.connectors.active_sms_connector(tenant_id) is not None
        return await self.connectors.active_email_connector(tenant_id) is not None
