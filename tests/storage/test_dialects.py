"""An SQLite server never loads SQLAlchemy's PostgreSQL dialect (2 MB it would never use): its
upserts are made for the database at hand, on first use (`phoneauth.storage.dialects`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter: this test process has loaded every dialect for its fixtures. It serves a
# few requests that write through the upserts (a code, an interaction, the SMS routing rules),
# then says which dialects it loaded.
PROBE = """
import json, sys
from fastapi.testclient import TestClient
from phoneauth.settings import Settings
from phoneauth.web import serving
from phoneauth.web.app import create_app

settings = Settings()
serving.migrate_apart(settings)
key = sys.argv[1]
connector = {"connectorId": "outbox-sms", "config": {}}
code = {"phone": "+4915112345678"}
identifier = {"type": "phone", "value": "+4915112345679"}
with TestClient(create_app(settings, serving=True)) as client:
    admin = {"Authorization": f"Bearer {key}"}
    answers = [
        client.post("/api/connectors", json=connector, headers=admin),
        client.post("/api/verification-codes", json=code, headers=admin),
        client.put("/api/sms-routing", json={"deadlineSeconds": 30}, headers=admin),
        client.put("/api/experience", json={"interactionEvent": "SignIn"}),
        client.post(
            "/api/experience/verification/verification-code",
            json={"identifier": identifier, "interactionEvent": "SignIn"},
        ),
    ]
print(json.dumps({
    "statuses": [answer.status_code for answer in answers],
    "dialects": sorted(m for m in sys.modules if m.startswith("sqlalchemy.dialects.")),
}))
"""


def test_an_sqlite_server_loads_no_postgresql_dialect(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONEAUTH_")}
    env["PHONEAUTH_DATA_DIR"] = str(tmp_path)

    def run(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    key = run("-m", "phoneauth", "admin", "create-key").split()[-1]
    answer = json.loads(run("-c", PROBE, key).strip().splitlines()[-1])
    assert answer["statuses"] == [200, 204, 200, 204, 200]
    assert any(name.startswith("sqlalchemy.dialects.sqlite") for name in answer["dialects"])
    assert not any("postgresql" in name for name in answer["dialects"]), answer["dialects"]
