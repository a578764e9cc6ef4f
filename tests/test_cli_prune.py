"""`phoneauth prune`: the retention job for cron, outside the server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import DatabaseUnderTest
from tests.domain.codes_support import PHONE, make_tenant, migrated
from typer.testing import CliRunner

from phoneauth.cli import app
from phoneauth.domain.message_log import MessageLogEntry, MessageStatus
from phoneauth.domain.verification_codes import StoredCode
from phoneauth.storage.repositories.message_log import SqlMessageLogStore
from phoneauth.storage.repositories.verification_codes import SqlVerificationCodeStore


async def test_prune_deletes_expired_codes_and_old_log_entries(
    migrated_database: DatabaseUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = await migrated(migrated_database)
    await make_tenant(database, "default", messageLogRetentionDays=7)
    now = datetime.now(UTC)
    codes = SqlVerificationCodeStore(database)
    for code_id, expires in (("old", now - timedelta(hours=1)), ("live", now + timedelta(hours=1))):
        await codes.replace(
            StoredCode(code_id, "default", PHONE, code_id, "", "h" * 64, 0, now, expires)
        )
    log = SqlMessageLogStore(database)
    for entry_id, age in (("m-old", 8), ("m-new", 6)):
        await log.add(
            MessageLogEntry(
                entry_id,
                "default",
                now - timedelta(days=age),
                None,
                None,
                "SignIn",
                "+49*",
                MessageStatus.SENT,
            )
        )
    monkeypatch.setenv("PHONEAUTH_DATABASE_URL", migrated_database.url)
    if migrated_database.schema:
        monkeypatch.setenv("PHONEAUTH_DATABASE_SCHEMA", migrated_database.schema)

    result = await asyncio.to_thread(CliRunner().invoke, app, ["prune"])

    assert result.exit_code == 0, result.output
    assert "Pruned 1 codes and 1 message-log entries." in result.output
    assert await codes.get("default", "live") is not None
    assert await codes.get("default", "old") is None
    await database.dispose()
