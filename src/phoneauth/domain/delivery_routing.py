"""Delivery routing as operators manage it: standby SMS connectors, the rules, circuit states.

Standby configs are validated, encrypted and masked by `ConnectorManagement`, exactly as the
active connector's are; the rules are checked against the tenant's standby connectors, and a
standby connector that a rule names cannot be deleted (the rules would silently lose it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from phoneauth.connectors import Connector
from phoneauth.domain.circuit_breaker import CircuitBreakers, CircuitView
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.ports import ReportingConnector
from phoneauth.domain.sms_router import SmsRouter, StoredStandby, TenantRouting
from phoneauth.domain.sms_routing import RoutingRules, RoutingRulesError, parse_rules
from phoneauth.domain.tenants import Tenant
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

MAX_STANDBY_CONNECTORS = 20


class StandbyNotFoundError(PhoneauthError):
    """No standby connector with this id in this tenant."""

    code = "sms_routing.connector_not_found"
    status = 404


class StandbyInUseError(PhoneauthError):
    """The routing rules still name this standby connector; remove it from them first."""

    code = "sms_routing.connector_in_use"
    status = 409


class TooManyStandbyError(PhoneauthError):
    """This tenant has as many standby connectors as it may have."""

    code = "sms_routing.too_many_connectors"
    status = 422


class SealedConfigs(Protocol):
    """Validation, encryption, masking and building, shared with the active connector."""

    def sealed_config(
        self,
        tenant: Tenant,
        factory_id: str,
        config: Mapping[str, Any],
        stored_encrypted: str | None = None,
    ) -> str: ...

    def shown_config(self, factory_id: str, config_encrypted: str) -> dict[str, Any] | None: ...

    def build_sealed(
        self, tenant_id: str, row_id: str, factory_id: str, config_encrypted: str
    ) -> Connector | None: ...

    def reporting_sealed(
        self, tenant_id: str, row_id: str, factory_id: str, config_encrypted: str
    ) -> ReportingConnector | None: ...


class RoutingStore(Protocol):
    """Tenant-scoped storage of standby connectors and the rules document."""

    async def routing(self, tenant_id: str) -> TenantRouting:
        """Rules (None without a document) and standby rows; cached, read on every send."""
        ...

    async def list_standby(self, tenant_id: str) -> list[StoredStandby]: ...

    async def add_standby(self, row: StoredStandby) -> None: ...

    async def update_standby(
        self, tenant_id: str, connector_id: str, config_encrypted: str, now: datetime
    ) -> StoredStandby | None: ...

    async def delete_standby(self, tenant_id: str, connector_id: str) -> bool: ...

    async def rules_document(self, tenant_id: str) -> dict[str, Any] | None: ...

    async def put_rules(self, tenant_id: str, document: dict[str, Any], now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class StandbyConnector:
    """A standby connector as the API shows it: secrets masked."""

    id: str
    factory_id: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RoutingOverview:
    standby: list[StandbyConnector]
    rules: RoutingRules
    configured: bool
    """False while the tenant never saved rules: every send uses the active connector alone."""
    circuits: list[CircuitView]


class DeliveryRouting:
    """Also the router's `RoutingSource` and `StandbyBuilder`."""

    def __init__(
        self,
        store: RoutingStore,
        configs: SealedConfigs,
        clock: Callable[[], datetime],
        breakers: CircuitBreakers | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self.store = store
        self.configs = configs
        self.clock = clock
        self.router = SmsRouter(self, self, breakers, metrics=metrics)

    # --- what a send reads -------------------------------------------------------------------

    async def routing(self, tenant_id: str) -> TenantRouting:
        return await self.store.routing(tenant_id)

    def build_standby(self, tenant_id: str, row: StoredStandby) -> Connector | None:
        return self.configs.build_sealed(tenant_id, row.id, row.factory_id, row.config_encrypted)

    async def find(self, tenant_id: str, row_id: str) -> ReportingConnector | None:
        """A standby connector for its delivery reports (`ReportingConnectors`): the messages
        it sent name its id in their callback URL."""
        row = (await self.store.routing(tenant_id)).standby_by_id(row_id)
        if row is None:
            return None
        return self.configs.reporting_sealed(
            tenant_id, row.id, row.factory_id, row.config_encrypted
        )

    # --- what operators manage ---------------------------------------------------------------

    async def overview(self, tenant_id: str) -> RoutingOverview:
        rows = await self.store.list_standby(tenant_id)
        document = await self.store.rules_document(tenant_id)
        try:
            rules = parse_rules(document or {}, [row.id for row in rows])
        except RoutingRulesError:  # edited by hand: sends ignore it too (the store says so)
            rules = parse_rules({}, ())
        return RoutingOverview(
            standby=[shown for row in rows if (shown := self._shown(row)) is not None],
            rules=rules,
            configured=document is not None,
            circuits=self.router.circuits(tenant_id),
        )

    async def put_rules(self, tenant_id: str, document: Mapping[str, Any]) -> RoutingRules:
        """Validate and save the whole document (PUT semantics: left-out fields reset)."""
        rows = await self.store.list_standby(tenant_id)
        rules = parse_rules(document, [row.id for row in rows])
        await self.store.put_rules(tenant_id, rules.to_document(), self.clock())
        return rules

    async def add_standby(
        self, tenant: Tenant, factory_id: str, config: Mapping[str, Any]
    ) -> StandbyConnector:
        if len(await self.store.list_standby(tenant.id)) >= MAX_STANDBY_CONNECTORS:
            raise TooManyStandbyError(max=MAX_STANDBY_CONNECTORS)
        sealed = self.configs.sealed_config(tenant, factory_id, config)
        now = self.clock()
        row = StoredStandby(new_id(), tenant.id, factory_id, sealed, now, now)
        await self.store.add_standby(row)
        return self._must_show(row)

    async def update_standby(
        self, tenant: Tenant, connector_id: str, config: Mapping[str, Any]
    ) -> StandbyConnector:
        """Replace the config; a masked secret keeps the stored one (as for the active one)."""
        row = await self._get(tenant.id, connector_id)
        sealed = self.configs.sealed_config(tenant, row.factory_id, config, row.config_encrypted)
        updated = await self.store.update_standby(tenant.id, connector_id, sealed, self.clock())
        if updated is None:
            raise StandbyNotFoundError(connector_id=connector_id)
        return self._must_show(updated)

    async def delete_standby(self, tenant_id: str, connector_id: str) -> None:
        await self._get(tenant_id, connector_id)
        document = await self.store.rules_document(tenant_id)
        if document is not None and connector_id in _named(document):
            raise StandbyInUseError(connector_id=connector_id)
        if not await self.store.delete_standby(tenant_id, connector_id):
            raise StandbyNotFoundError(connector_id=connector_id)

    async def _get(self, tenant_id: str, connector_id: str) -> StoredStandby:
        for row in await self.store.list_standby(tenant_id):
            if row.id == connector_id and self._shown(row) is not None:
                return row
        raise StandbyNotFoundError(connector_id=connector_id)

    def _shown(self, row: StoredStandby) -> StandbyConnector | None:
        config = self.configs.shown_config(row.factory_id, row.config_encrypted)
        if config is None:  # its factory is not installed
            return None
        return StandbyConnector(row.id, row.factory_id, config, row.created_at, row.updated_at)

    def _must_show(self, row: StoredStandby) -> StandbyConnector:
        shown = self._shown(row)
        if shown is None:  # checked by `sealed_config` a moment ago
            raise StandbyNotFoundError(connector_id=row.id)
        return shown


def _named(document: Mapping[str, Any]) -> set[str]:
    """The ids a stored (already validated) document names."""
    names = set(document.get("fallback") or [])
    for route in document.get("routes") or []:
        names.update(route.get("connectors") or [])
    return names
