"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from phoneauth.storage.models.admin_keys import AdminKeyRow
from phoneauth.storage.models.base import Base
from phoneauth.storage.models.connectors import ConnectorRow
from phoneauth.storage.models.message_log import MessageLogRow
from phoneauth.storage.models.tenants import TenantRow
from phoneauth.storage.models.verification_codes import VerificationCodeRow

__all__ = [
    "AdminKeyRow",
    "Base",
    "ConnectorRow",
    "MessageLogRow",
    "TenantRow",
    "VerificationCodeRow",
]
