"""Changing a tenant's kind: production only while the tenant keeps production's rules.

Logto Cloud has a one-way "convert to production"; here the kind goes both ways, the `default`
tenant's included, so a real deployment on the root paths can be production. Production's rules
are those the rest of the domain enforces on a production tenant: no development-only connector
(the outbox) may be its SMS connector (`connector_management`), and its outbox is closed. Test
phone numbers stay allowed: they exist for production's app-store reviews. Development accepts
everything production does, so switching back is always allowed.
"""

from __future__ import annotations

from phoneauth.domain.connector_management import DEVELOPMENT_TAG, SMS, ConnectorManagement
from phoneauth.domain.tenants import Tenant, TenantKind, Tenants
from phoneauth.errors import PhoneauthError


class DevelopmentConnectorInUseError(PhoneauthError):
    """A production tenant cannot keep a development-only SMS connector (the outbox)."""

    code = "tenant.development_connector_in_use"
    status = 409


class TenantKinds:
    """Switches a tenant between development and production, checking production's rules."""

    def __init__(self, tenants: Tenants, connectors: ConnectorManagement) -> None:
        self.tenants = tenants
        self.connectors = connectors

    async def change(self, tenant_id: str, kind: TenantKind) -> Tenant:
        """The tenant as `kind`; `DevelopmentConnectorInUseError` leaves it as it was."""
        tenant = await self.tenants.get(tenant_id)
        if kind is tenant.kind:
            return tenant
        if kind is TenantKind.DEVELOPMENT:
            return await self.tenants.store.save_kind(tenant_id, kind)
        await self._check_production(tenant_id)
        changed = await self.tenants.store.save_kind(tenant_id, kind)
        try:
            # The outbox may have been saved while the kind was written (it checks the kind it
            # read before); look again, and undo rather than leave production on the outbox.
            await self._check_production(tenant_id)
        except DevelopmentConnectorInUseError:
            await self.tenants.store.save_kind(tenant_id, TenantKind.DEVELOPMENT)
            raise
        return changed

    async def _check_production(self, tenant_id: str) -> None:
        row = await self.connectors.store.get_by_type(tenant_id, SMS)
        if row is None or row.factory_id not in self.connectors.registry:
            return
        factory = self.connectors.registry.get(row.factory_id)
        if DEVELOPMENT_TAG in factory.tags:
            raise DevelopmentConnectorInUseError(
                f"The SMS connector is {factory.name}, which is for development tenants only. "
                "Change the SMS connector to a real provider first.",
                tenant_id=tenant_id,
                connector_id=factory.id,
            )
