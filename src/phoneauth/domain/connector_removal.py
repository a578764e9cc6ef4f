"""Deleting a connector the sign-in experience may depend on: one rule for the API and console.

Logto's `DELETE /api/connectors/:id` deletes whatever depends on it (reference/logto-parity.md
7.1), and so does phoneauth's API by default; the guard is an opt-in (`?ifUnused=true`) that the
console's "Delete" uses before its "Delete anyway".
"""

from __future__ import annotations

from phoneauth.domain.connector_management import EMAIL, SMS, ConnectorManagement
from phoneauth.domain.sign_in_experience import SignInExperiences


async def sms_dependents(
    connectors: ConnectorManagement,
    experiences: SignInExperiences,
    tenant_id: str,
    connector_id: str,
) -> list[str]:
    """The sign-in settings that stop working if this connector goes; empty if it is not the
    tenant's active SMS connector."""
    active = await connectors.store.get_by_type(tenant_id, SMS)
    if active is None or active.id != connector_id:
        return []
    return (await experiences.current(tenant_id)).sms_dependents()


async def dependents(
    connectors: ConnectorManagement,
    experiences: SignInExperiences,
    tenant_id: str,
    connector_id: str,
) -> list[str]:
    """The sign-in settings that stop working if this connector goes, whichever its type: empty
    unless it is the tenant's active SMS or Email connector."""
    for connector_type in (SMS, EMAIL):
        active = await connectors.store.get_by_type(tenant_id, connector_type)
        if active is not None and active.id == connector_id:
            document = await experiences.current(tenant_id)
            if connector_type == SMS:
                return document.sms_dependents()
            return document.email_dependents()
    return []


async def delete_connector(
    connectors: ConnectorManagement,
    experiences: SignInExperiences,
    tenant_id: str,
    connector_id: str,
    *,
    if_unused: bool = False,
) -> None:
    """Delete; with `if_unused`, refused with `ConnectorInUseError` while settings depend on it.

    Raises:
        ConnectorInUseError: `details.dependents` names each dependent setting.
        ConnectorNotFoundError: no such connector in this tenant.
    """
    if if_unused:
        active = await connectors.store.get_by_type(tenant_id, SMS)
        if active is not None and active.id == connector_id:
            await experiences.ensure_sms_connector_removable(tenant_id)
        active = await connectors.store.get_by_type(tenant_id, EMAIL)
        if active is not None and active.id == connector_id:
            await experiences.ensure_email_connector_removable(tenant_id)
    await connectors.delete(tenant_id, connector_id)
