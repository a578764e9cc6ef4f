"""schemathesis against phoneauth's own OpenAPI document, over real HTTP, with an admin key, on
an SQLite file and on PostgreSQL.

Each operation the document lists (at /api and /t/{tenant_id}/api: the Management, Experience
and Account APIs; the OIDC endpoints, `/health` and `/metrics`) is one test: schemathesis's
examples, coverage (undeclared methods included) and fuzzing phases, valid and invalid data, a
fixed seed and 20 examples, so the run is short and the same every time.
Every answer must be no 5xx, a documented status, the documented content type, headers and body;
invalid input must be refused; a 405 must carry `Allow`.

Not checked: `positive_data_acceptance`. Some schema-valid requests are refused on purpose with
documented 4xx codes that JSON Schema cannot express: a phone number that no numbering plan has
(`phone_number.invalid`), an unknown factory id (`connector.not_found_with_connector_id`),
Logto's social-only fields (`connector.invalid_type_for_syncing_profile`), a verification code
that was never sent (`verification_code.not_found`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from pydantic import SecretStr
from tests import local_http
from tests.conftest import DatabaseUnderTest, database_for
from tests.e2e.conftest import Deployment, deploy

from phoneauth.settings import Settings
from phoneauth.web.app import create_app

OUTBOX_ID = "fuzz-outbox"
EMAIL_OUTBOX_ID = "fuzz-email-outbox"
OUTBOXES = {OUTBOX_ID: "outbox-sms", EMAIL_OUTBOX_ID: "outbox-email"}
"""One connector of each type: sends by SMS and by email both reach an outbox."""
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
"""What refuses schema-violating data: schemathesis's list, and 413 for a field longer than the
body limit lets through (`customCss` may hold 100,000 characters; a body, 64 KB by default)."""
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
    "allow_header_conformance",
]


@dataclass(frozen=True)
class Target:
    """The served app, and a way to put its SMS connector back after a case removed it."""

    deployment: Deployment
    client: httpx.Client
    """Kept for the module: a client of its own per connector case was a seventh of this
    module's time, most of it the TLS context each built (see `tests.local_http`)."""

    def keep_the_outbox(self) -> None:
        """Sends must reach the outboxes (never the network): restore one if a DELETE, or a
        POST that replaced it, took it away. Without a connector of its type a send answers 501
        by design (Logto's `connector.not_found`)."""
        saved = {connector["id"] for connector in self.client.get("/api/connectors").json()}
        for connector_id, factory_id in OUTBOXES.items():
            if connector_id in saved:
                continue
            body = {"connectorId": factory_id, "id": connector_id}
            created = self.client.post("/api/connectors", json=body)
            assert created.status_code == 200, created.text


def settings_in(folder: Path, database: DatabaseUnderTest | None = None) -> Settings:
    """On `database` (default: SQLite in `folder`); no PHONEAUTH_* of the shell (the
    module-wide server starts before the per-test `clean_environ` fixture runs)."""
    with pytest.MonkeyPatch.context() as environ:
        for key in [key for key in os.environ if key.startswith("PHONEAUTH_")]:
            environ.delenv(key)
        return Settings(
            data_dir=folder / "data",
            database_url=(
                database.url if database else f"sqlite+aiosqlite:///{folder / 'phoneauth.db'}"
            ),
            database_schema=database.schema if database else None,
            secret_key=SecretStr("fuzz-secret-key"),
        )


# The document comes from the app factory at collection time, so each operation is its own test
# item; `target` checks that the running server serves this very document at /openapi.json.
DOCUMENT: dict[str, Any] = create_app(settings_in(Path("unused"))).openapi()
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261125,
        "request-timeout": 60,  # schemathesis's default (10 s) is missed on a busy machine
        "generation": {
            "mode": "all",
            "max-examples": 20,
            "deterministic": True,
            "database": "none",
        },
        "checks": {
            "enabled": False,
            **{name: {"enabled": True} for name in CHECKS},
            "negative_data_rejection": {"enabled": True, "expected-statuses": REJECTED},
        },
        # Half the cases name things that exist, so they get past the 404 into the handler.
        "parameters": {
            "path.tenant_id": {"dictionary": "tenants", "probability": 0.5},
            "path.connector_id": {"dictionary": "connectors", "probability": 0.5},
            "path.factory_id": {"dictionary": "factories", "probability": 0.5},
        },
        "dictionaries": {
            "tenants": {"values": ["default"]},
            "connectors": {"values": list(OUTBOXES)},
            "factories": {"values": list(OUTBOXES.values())},  # nothing over the network
        },
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@pytest.fixture(scope="module")
def target(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One server per database for the whole module: the operations run one after the other
    against it, on an SQLite file and on PostgreSQL (where text an SQLite file takes, a NUL,
    answered 500)."""
    folder = tmp_path_factory.mktemp("fuzz")
    with (
        database_for(database_kind, folder) as database,
        deploy(settings_in(folder, database)) as deployment,
        local_http.client(base_url=deployment.url, headers=deployment.auth, timeout=60) as client,
    ):
        assert client.get("/openapi.json").json() == DOCUMENT
        # Budgets wide enough that most sends reach the connector rather than the limiter.
        limits = {"recipientLimit": 10_000, "ipLimit": 100_000}
        patched = client.patch("/api/tenant/settings", json={"rateLimits": limits})
        assert patched.status_code == 200, patched.text
        served = Target(deployment, client)
        served.keep_the_outbox()
        yield served


@schema.parametrize()
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], target: Target
) -> None:
    deployment = target.deployment
    case.call_and_validate(base_url=deployment.url, headers=deployment.auth)
    if "/connectors" in case.path and case.method.upper() in {"POST", "PATCH", "DELETE"}:
        target.keep_the_outbox()
