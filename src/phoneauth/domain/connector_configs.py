"""Connector configs as the Management API handles them: Logto's clean-up and secret masking."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from phoneauth.connectors import ConnectorFactory, secret_fields
from phoneauth.connectors.config import get_path, set_path

SECRET_MASK = "**********"
"""What every secret reads as in an answer; sent back, it means "keep the stored secret"."""


def clean_deep(value: Any) -> Any:
    """Logto's `cleanDeep` on configs: drop `null`, `""`, `{}` and `[]`, at every depth."""
    if isinstance(value, Mapping):
        items = ((key, clean_deep(item)) for key, item in value.items())
        return {key: item for key, item in items if not _empty(item)}
    if isinstance(value, list | tuple):
        return [item for item in map(clean_deep, value) if not _empty(item)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | dict | list) and len(value) == 0)


def mask_secrets(model: type[Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The config with every secret field that has a value replaced by `SECRET_MASK`."""
    masked = dict(config)
    for key in secret_fields(model):
        if get_path(masked, key) is not None:
            masked = set_path(masked, key, SECRET_MASK)
    return masked


def sends_a_mask(factory: ConnectorFactory[Any], config: Mapping[str, Any]) -> bool:
    return any(get_path(config, key) == SECRET_MASK for key in secret_fields(factory.config_model))
