"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from phoneauth.storage.models.admin_keys import AdminKeyRow
from phoneauth.storage.models.base import Base
from phoneauth.storage.models.change_versions import ChangeVersionRow
from phoneauth.storage.models.connectors import ConnectorRow
from phoneauth.storage.models.console import (
    ConsoleAdminRow,
    ConsoleSessionRow,
    ConsoleSetupTokenRow,
)
from phoneauth.storage.models.interactions import (
    InteractionRow,
    SessionRow,
    SigningKeyRow,
    VerificationRecordRow,
)
from phoneauth.storage.models.message_log import MessageLogRow
from phoneauth.storage.models.oidc import (
    ApiResourceRow,
    ApplicationRoleRow,
    ApplicationRow,
    ApplicationSecretRow,
    OidcAuthorizationCodeRow,
    OidcAuthorizationRequestRow,
    OidcRefreshTokenRow,
)
from phoneauth.storage.models.organizations import (
    OrganizationInvitationRow,
    OrganizationMemberRow,
    OrganizationRow,
)
from phoneauth.storage.models.sign_in_experiences import SignInExperienceRow
from phoneauth.storage.models.sms_protection import SmsCountrySuspensionRow
from phoneauth.storage.models.sms_routing import SmsRoutingRow, SmsStandbyConnectorRow
from phoneauth.storage.models.tenants import TenantRow
from phoneauth.storage.models.users import UserRow
from phoneauth.storage.models.verification_codes import VerificationCodeRow

__all__ = [
    "AdminKeyRow",
    "ApiResourceRow",
    "ApplicationRoleRow",
    "ApplicationRow",
    "ApplicationSecretRow",
    "Base",
    "ChangeVersionRow",
    "ConnectorRow",
    "ConsoleAdminRow",
    "ConsoleSessionRow",
    "ConsoleSetupTokenRow",
    "InteractionRow",
    "MessageLogRow",
    "OidcAuthorizationCodeRow",
    "OidcAuthorizationRequestRow",
    "OidcRefreshTokenRow",
    "OrganizationInvitationRow",
    "OrganizationMemberRow",
    "OrganizationRow",
    "SessionRow",
    "SignInExperienceRow",
    "SigningKeyRow",
    "SmsCountrySuspensionRow",
    "SmsRoutingRow",
    "SmsStandbyConnectorRow",
    "TenantRow",
    "UserRow",
    "VerificationCodeRow",
    "VerificationRecordRow",
]
