"""Message-log rows for the tests of group commit (`test_group_commit`, `test_grouped_insert`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select

from phoneauth.storage.database import Statement
from phoneauth.storage.models import MessageLogRow
from phoneauth.storage.prepared import Prepared

TABLE = MessageLogRow.metadata.tables["message_log"]
INSERT = Prepared(insert(TABLE))
COUNT = Statement(select(func.count()).select_from(TABLE), None, lambda rows: rows.scalar_one())


def row(n: int) -> dict[str, Any]:
    return {
        "id": f"m{n:04d}",
        "tenant_id": "default",
        "created_at": datetime(2030, 1, 1, tzinfo=UTC),
        "connector_id": "row-1",
        "factory_id": "outbox-sms",
        "usage_type": "SignIn",
        "phone_masked": "+4915*****5678",
        "status": "sent",
        "test_send": False,
    }
