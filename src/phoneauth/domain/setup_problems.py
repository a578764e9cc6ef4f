"""What end users cannot do for want of a connector: the console's persistent warnings.

Logto's connector delete deletes (no re-check of the sign-in experience), so a tenant can keep
phone or email sign-in with no connector to send the codes. Every console page asks this module,
so it reads the document once and a connector only where the document needs one: a healthy
tenant costs no more than its cached document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from phoneauth.connectors import ConnectorError
from phoneauth.domain.ports import EmailConnectorSource, SmsConnectorSource

if TYPE_CHECKING:  # the document's module imports this one
    from phoneauth.domain.sign_in_experience import SignInExperience


@dataclass(frozen=True, slots=True)
class SmsSetupProblem:
    """End users cannot get a code on this tenant: it has no usable SMS connector.

    `on_default`: the tenant never saved its document and the default waits for a connector.
    `features` names, in an admin's words, what of the saved document needs SMS; empty with
    `on_default` false, the saved document offers no way to sign in or sign up at all.
    """

    on_default: bool
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetupProblems:
    """Both kinds at once, as every console page shows them: `sms` as `SmsSetupProblem`,
    `email` naming what of the saved document needs the missing Email connector."""

    sms: SmsSetupProblem | None = None
    email: tuple[str, ...] = ()


async def sms_usable(connectors: SmsConnectorSource, tenant_id: str) -> bool:
    """Whether the tenant has an SMS connector that can be built: one saved whose provider is
    installed and whose stored settings the provider still accepts."""
    try:
        return await connectors.active_sms_connector(tenant_id) is not None
    except ConnectorError:  # the stored config no longer parses (a provider upgrade)
        return False


async def email_usable(connectors: SmsConnectorSource, tenant_id: str) -> bool:
    """Whether the tenant has an Email connector that can be built (as `sms_usable`)."""
    if not isinstance(connectors, EmailConnectorSource):
        return False
    try:
        return await connectors.active_email_connector(tenant_id) is not None
    except ConnectorError:
        return False


async def find_setup_problems(
    saved: SignInExperience | None, connectors: SmsConnectorSource, tenant_id: str
) -> SetupProblems:
    """The problems of the tenant's saved document (None: never saved, the default)."""
    return SetupProblems(
        sms=await _sms_problem(saved, connectors, tenant_id),
        email=await _email_problem(saved, connectors, tenant_id),
    )


async def _sms_problem(
    saved: SignInExperience | None, connectors: SmsConnectorSource, tenant_id: str
) -> SmsSetupProblem | None:
    features = () if saved is None else saved.sms_features()
    # Saved while waiting for a connector (a PATCH of signInMode, say): it offers no way in.
    offers_nothing = (
        saved is not None and not saved.sign_in.methods and not saved.sign_up.identifiers
    )
    if saved is not None and not features and not offers_nothing:
        return None  # needs no SMS: no connector to read
    if await sms_usable(connectors, tenant_id):
        return None
    if saved is None:
        return SmsSetupProblem(on_default=True)
    return SmsSetupProblem(on_default=False, features=features)


async def _email_problem(
    saved: SignInExperience | None, connectors: SmsConnectorSource, tenant_id: str
) -> tuple[str, ...]:
    """Email features of a saved document only: the default offers none."""
    features = () if saved is None else saved.email_features()
    if not features or await email_usable(connectors, tenant_id):
        return ()
    return features
