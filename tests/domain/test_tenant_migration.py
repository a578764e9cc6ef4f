"""Tenant export, diff and import on both databases, and the same through the API and the CLI."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import DatabaseUnderTest
from typer.testing import CliRunner

from phoneauth.cli import app as cli
from phoneauth.connectors import InvalidConfigError
from phoneauth.domain.connector_management import DevelopmentOnlyError
from phoneauth.domain.sign_in_experience_rules import ConnectorRequiredError
from phoneauth.domain.tenant_migration import InvalidExportError, TenantMigration, parse_export
from phoneauth.domain.tenants import TenantKind
from phoneauth.settings import Settings
from phoneauth.wiring import Services

TWILIO = "twilio-short-message-service"
TWILIO_CONFIG: dict[str, Any] = {
    "accountSID": "AC123",
    "authToken": "token-one",
    "fromMessagingServiceSID": "MG123",
    "templates": [
        {"usageType": "SignIn", "content": "Sign in with {{code}}"},
        {"usageType": "Generic", "content": "Generic {{code}}"},
    ],
}
PASSWORD_SIGN_IN = {
    "signUp": {"identifiers": ["phone"], "password": True, "verify": True},
    "signIn": {
        "methods": [
            {
                "identifier": "phone",
                "password": True,
                "verificationCode": True,
                "isPasswordPrimary": True,
            }
        ]
    },
}


def migration(services: Services) -> TenantMigration:
    return TenantMigration(services.tenants, services.connectors, services.sign_in_experience)


async def dev_and_prod(services: Services) -> tuple[Any, Any]:
    dev = await services.tenants.get("default")
    prod = await services.tenants.create("prod", "Production", TenantKind.PRODUCTION)
    await services.connectors.create(dev, TWILIO, TWILIO_CONFIG)
    changes = {
        "sign_up": PASSWORD_SIGN_IN["signUp"],
        "sign_in": PASSWORD_SIGN_IN["signIn"],
    }
    parsed = {
        key: type(getattr(await services.sign_in_experience.current(dev.id), key)).model_validate(
            value
        )
        for key, value in changes.items()
    }
    await services.sign_in_experience.update(dev.id, parsed, services.connectors)
    return dev, prod


async def test_export_masks_secrets_unless_asked(services: Services) -> None:
    await dev_and_prod(services)
    tool = migration(services)
    masked = await tool.export("default")
    assert masked["includesSecrets"] is False
    assert masked["connector"]["config"]["authToken"] == "**********"
    assert "token-one" not in json.dumps(masked)
    assert masked["connector"]["config"]["templates"] == TWILIO_CONFIG["templates"]
    assert masked["signInExperience"]["signUp"]["password"] is True
    revealed = await tool.export("default", include_secrets=True)
    assert revealed["connector"]["config"]["authToken"] == "token-one"


async def test_dry_run_shows_the_diff_and_changes_nothing_then_apply_does(
    services: Services,
) -> None:
    _, prod = await dev_and_prod(services)
    tool = migration(services)
    export = await tool.export("default", include_secrets=True)

    preview = await tool.import_(prod.id, export, dry_run=True)
    assert not preview.applied
    paths = {change.path: change for change in preview.changes}
    assert paths["connector.connectorId"].before is None
    assert paths["connector.connectorId"].after == TWILIO
    assert paths["connector.config.authToken"].after == "**********"  # never in clear
    assert paths["connector.templates.SignIn"].after["content"] == "Sign in with {{code}}"
    assert paths["signInExperience.signUp"].after["password"] is True
    assert "token-one" not in repr(preview.changes)
    assert await services.connectors.list(prod.id) == []

    applied = await tool.import_(prod.id, export)
    assert applied.applied
    assert [c.path for c in applied.changes] == [c.path for c in preview.changes]
    saved = await services.connectors.saved_config(prod.id, reveal_secrets=True)
    assert saved == (TWILIO, TWILIO_CONFIG | {"disableRiskCheck": False})
    document = await services.sign_in_experience.current(prod.id)
    assert document.sign_up.password is True
    assert (await tool.import_(prod.id, export, dry_run=True)).changes == []


async def test_without_secrets_the_target_keeps_its_own_or_the_import_says_which(
    services: Services,
) -> None:
    _, prod = await dev_and_prod(services)
    tool = migration(services)
    export = await tool.export("default")
    with pytest.raises(InvalidConfigError) as refused:
        await tool.import_(prod.id, export, dry_run=True)
    assert "authToken" in refused.value.message
    await services.connectors.create(prod, TWILIO, TWILIO_CONFIG | {"authToken": "prod-token"})
    export["connector"]["config"]["accountSID"] = "AC999"
    result = await tool.import_(prod.id, export)
    assert [c.path for c in result.changes if c.path.startswith("connector")] == [
        "connector.config.accountSID"
    ]
    saved = await services.connectors.saved_config(prod.id, reveal_secrets=True)
    assert saved is not None
    assert saved[1]["authToken"] == "prod-token"
    assert saved[1]["accountSID"] == "AC999"


async def test_a_production_tenant_refuses_the_outbox_and_nothing_changes(
    services: Services,
) -> None:
    dev = await services.tenants.get("default")
    prod = await services.tenants.create("prod", "Production", TenantKind.PRODUCTION)
    await services.connectors.create(dev, "outbox-sms", {})
    tool = migration(services)
    export = await tool.export(dev.id)
    for dry_run in (True, False):
        with pytest.raises(DevelopmentOnlyError) as refused:
            await tool.import_(prod.id, export, dry_run=dry_run)
        assert refused.value.code == "connector.development_only"
        assert refused.value.status == 422
    assert await services.connectors.list(prod.id) == []


async def test_sign_in_rules_hold_for_the_target(services: Services) -> None:
    prod = await services.tenants.create("prod", "Production", TenantKind.PRODUCTION)
    tool = migration(services)
    fresh = await tool.export("default")  # no connector: the default offers no phone sign-in
    assert fresh["connector"] is None
    await tool.import_(prod.id, fresh, dry_run=True)  # a consistent state imports anywhere
    await services.connectors.create(await services.tenants.get("default"), "outbox-sms", {})
    export = await tool.export("default")  # phone sign-in now
    export["connector"] = None  # the target has no SMS connector of its own
    with pytest.raises(ConnectorRequiredError):
        await tool.import_(prod.id, export)


async def test_not_an_export_is_refused_with_each_problem(services: Services) -> None:
    tool = migration(services)
    for bad in ({}, {"format": "other"}, [], "x"):
        with pytest.raises(InvalidExportError) as refused:
            await tool.import_("default", bad, dry_run=True)
        assert refused.value.status == 400
    export = await tool.export("default")
    export["signInExperience"]["signUp"]["identifiers"] = ["fax"]
    with pytest.raises(InvalidExportError) as refused:
        await tool.import_("default", export, dry_run=True)
    errors = refused.value.details["errors"]
    assert isinstance(errors, list)
    assert errors[0]["field"].startswith("signInExperience.signUp.identifiers")


async def test_the_management_api_exports_and_imports(
    services: Services, api: httpx.AsyncClient
) -> None:
    _, prod = await dev_and_prod(services)
    exported = await api.get("/api/tenants/default/export")
    assert exported.status_code == 200
    assert exported.json()["connector"]["config"]["authToken"] == "**********"
    with_secrets = (await api.get("/api/tenants/default/export?includeSecrets=true")).json()
    assert with_secrets["connector"]["config"]["authToken"] == "token-one"

    dry = await api.post(f"/api/tenants/{prod.id}/import?dryRun=true", json=with_secrets)
    assert dry.status_code == 200, dry.text
    assert dry.json()["applied"] is False
    assert "connector.connectorId" in [c["path"] for c in dry.json()["changes"]]
    assert "token-one" not in dry.text
    assert await services.connectors.list(prod.id) == []
    done = await api.post(f"/api/tenants/{prod.id}/import", json=with_secrets)
    assert done.json()["applied"] is True
    assert len(await services.connectors.list(prod.id)) == 1

    await services.connectors.create(await services.tenants.get("default"), "outbox-sms", {})
    outbox = (await api.get("/api/tenants/default/export")).json()
    refused = await api.post(f"/api/tenants/{prod.id}/import", json=outbox)
    assert refused.status_code == 422
    assert refused.json()["code"] == "connector.development_only"
    assert (await api.post(f"/api/tenants/{prod.id}/import", json={"x": 1})).status_code == 400
    assert (await api.get("/api/tenants/nope/export")).status_code == 404


async def test_the_cli_exports_and_imports(
    settings: Settings,
    migrated_database: DatabaseUnderTest,
    services: Services,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, prod = await dev_and_prod(services)
    monkeypatch.setenv("PHONEAUTH_DATABASE_URL", migrated_database.url)
    monkeypatch.setenv("PHONEAUTH_SECRET_KEY", "test-secret-key")
    monkeypatch.setenv("PHONEAUTH_DATA_DIR", str(settings.data_dir))
    if migrated_database.schema:
        monkeypatch.setenv("PHONEAUTH_DATABASE_SCHEMA", migrated_database.schema)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return asyncio.to_thread(runner.invoke, cli, list(args))

    masked = await run("tenants", "export", "default")
    assert masked.exit_code == 0, masked.output
    assert json.loads(masked.stdout)["connector"]["config"]["authToken"] == "**********"
    revealed = await run("tenants", "export", "default", "--include-secrets")
    file = tmp_path / "export.json"
    file.write_text(revealed.stdout)

    dry = await run("tenants", "import", prod.id, str(file), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert 'connector.connectorId: null → "twilio-short-message-service"' in dry.stdout
    assert "Dry run, nothing changed" in dry.stdout
    assert "token-one" not in dry.stdout
    applied = await run("tenants", "import", prod.id, str(file))
    assert applied.exit_code == 0, applied.output
    assert "Applied" in applied.stdout
    assert len(await services.connectors.list(prod.id)) == 1

    missing = await run("tenants", "import", "nope", str(file))
    assert missing.exit_code == 1
    assert "tenant.not_found" in missing.output
    assert "Traceback" not in missing.output


async def test_the_diff_never_shows_the_targets_secrets_of_another_provider(
    services: Services,
) -> None:
    _, prod = await dev_and_prod(services)
    vonage = {
        "apiKey": "key",
        "apiSecret": "vonage-secret",
        "brandName": "Brand",
        "templates": TWILIO_CONFIG["templates"],
    }
    await services.connectors.create(prod, "vonage-sms", vonage)
    export = await migration(services).export("default", include_secrets=True)
    changes = await migration(services).diff(prod.id, parse_export(export))
    shown = repr(changes)
    assert "vonage-secret" not in shown
    assert "token-one" not in shown
    secret = next(c for c in changes if c.path == "connector.config.apiSecret")
    assert (secret.before, secret.after) == ("**********", None)
