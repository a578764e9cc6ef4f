"""Which connector factories exist: the built-ins, then every `phoneauth.connectors` entry point."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from phoneauth.connectors.base import ConnectorType
from phoneauth.connectors.errors import (
    ConnectorFactoryNotFoundError,
    DuplicateConnectorFactoryError,
    InvalidMetadataError,
)
from phoneauth.connectors.factory import ConnectorFactory

ENTRY_POINT_GROUP = "phoneauth.connectors"

BUILTIN_MODULES: tuple[str, ...] = (
    "phoneauth.connectors.providers.outbox",
    "phoneauth.connectors.providers.http_sms",
    "phoneauth.connectors.providers.twilio",
    "phoneauth.connectors.providers.smsaero",
    "phoneauth.connectors.providers.gatewayapi",
    "phoneauth.connectors.providers.aliyun",
    "phoneauth.connectors.providers.tencent",
    "phoneauth.connectors.providers.vonage",
    "phoneauth.connectors.providers.outbox_email",
    "phoneauth.connectors.providers.smtp",
    "phoneauth.connectors.providers.http_email",
)
"""Listed here, not discovered, so a source checkout works without package metadata."""

log = logging.getLogger("phoneauth.connectors")


@dataclass(frozen=True, slots=True)
class UnavailableConnector:
    """An installed connector that could not be loaded, and why.

    `type` is its kind when it can be told, so the console lists it with the providers of that
    kind: from the loaded object's `type`, else from the entry point's name as the convention
    has it (`acme-sms`, `acme-email`, Logto's `...-short-message-service` and `...-mail...`);
    None when neither says.
    """

    name: str
    source: str
    reason: str
    type: ConnectorType | None = None


def kind_of(name: str, loaded: object = None) -> ConnectorType | None:
    """The kind of an entry point that did not load (see `UnavailableConnector.type`)."""
    declared = getattr(loaded, "type", None)
    if isinstance(declared, ConnectorType):
        return declared
    lowered = name.lower()
    if lowered.endswith("-sms") or "short-message" in lowered:
        return ConnectorType.SMS
    if "mail" in lowered:
        return ConnectorType.EMAIL
    return None


class ConnectorRegistry:
    """The factories one process knows, by id. Build one per app; tests build their own."""

    def __init__(self, factories: Iterable[ConnectorFactory[Any]] = ()) -> None:
        self._factories: dict[str, ConnectorFactory[Any]] = {}
        self.unavailable: list[UnavailableConnector] = []
        for factory in factories:
            self.register(factory)

    def register(self, factory: ConnectorFactory[Any]) -> None:
        if not isinstance(factory, ConnectorFactory):
            raise InvalidMetadataError(f"{factory!r} is not a ConnectorFactory.")
        if factory.id in self._factories:
            raise DuplicateConnectorFactoryError(
                f"Two connector factories declare the id {factory.id!r}.", factory_id=factory.id
            )
        self._factories[factory.id] = factory

    def get(self, factory_id: str) -> ConnectorFactory[Any]:
        try:
            return self._factories[factory_id]
        except KeyError:
            raise ConnectorFactoryNotFoundError(
                f"No connector factory with id {factory_id!r}.", factory_id=factory_id
            ) from None

    def __contains__(self, factory_id: object) -> bool:
        return factory_id in self._factories

    def __iter__(self) -> Iterator[ConnectorFactory[Any]]:
        return iter(self._factories.values())

    def __len__(self) -> int:
        return len(self._factories)

    def ids(self) -> list[str]:
        return list(self._factories)

    def load_builtins(self) -> None:
        for module_name in BUILTIN_MODULES:
            self.register(importlib.import_module(module_name).FACTORY)

    def load_entry_points(self, points: Iterable[EntryPoint] | None = None) -> None:
        """Add third-party factories; a broken one is unavailable, a duplicate fatal."""
        for point in entry_points(group=ENTRY_POINT_GROUP) if points is None else points:
            source = point.dist.name if point.dist is not None else point.value
            try:
                factory = point.load()
            except Exception as error:  # any import failure makes it unavailable
                reason = f"{type(error).__name__}: {error}"
                log.warning("connector %s unavailable: %s", point.name, reason)
                self.unavailable.append(
                    UnavailableConnector(point.name, source, reason, kind_of(point.name))
                )
                continue
            if not isinstance(factory, ConnectorFactory):
                reason = f"entry point {point.value} is not a ConnectorFactory"
                kind = kind_of(point.name, factory)
                self.unavailable.append(UnavailableConnector(point.name, source, reason, kind))
                continue
            self.register(factory)


def load_registry() -> ConnectorRegistry:
    """A fresh registry of the built-ins and every installed third-party connector."""
    registry = ConnectorRegistry()
    registry.load_builtins()
    registry.load_entry_points()
    return registry


@cache
def default_registry() -> ConnectorRegistry:
    """The process-wide registry behind `get_factory` and `list_factories`."""
    return load_registry()


def get_factory(factory_id: str) -> ConnectorFactory[Any]:
    """The factory with this Logto id, e.g. `twilio-short-message-service`."""
    return default_registry().get(factory_id)


def list_factories() -> list[ConnectorFactory[Any]]:
    """Every available factory, built-ins first."""
    return list(default_registry())
