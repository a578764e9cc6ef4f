"""Connector rows written straight into the store, as an older version without the checks would."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from phoneauth.crypto import ConfigCipher, derive_key, load_master_secret
from phoneauth.settings import Settings
from phoneauth.storage.database import open_database
from phoneauth.storage.repositories.connectors import SqlConnectorStore


async def store_unchecked(settings: Settings, factory_id: str, config: dict[str, Any]) -> None:
    """Make `config` the default tenant's SMS connector without validating it.

    The running server sees it on its next request (the database's change counter moves)."""
    assert settings.secret_key is not None
    master = load_master_secret(settings.secret_key.get_secret_value(), settings.data_dir)
    cipher = ConfigCipher(derive_key(master, "connector-config"))
    database = open_database(settings.resolved_database_url, schema=settings.database_schema)
    try:
        store = SqlConnectorStore(database)
        encrypted = cipher.encrypt(config)
        await store.replace("default", "Sms", factory_id, encrypted, now=datetime.now(UTC))
    finally:
        await database.dispose()
