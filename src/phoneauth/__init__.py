"""phoneauth: phone-number sign-in with one-time SMS codes and pluggable SMS connectors.

The library surface is the connector kit, re-exported here.
"""

import logging

from phoneauth.connectors import (
    Connector,
    ConnectorError,
    ConnectorFactory,
    SendResult,
    SmsMessage,
    UsageType,
    build_http_client,
    get_factory,
    list_factories,
)

__version__ = "0.1.0"

# A library stays quiet unless the application configures logging.
logging.getLogger("phoneauth").addHandler(logging.NullHandler())

__all__ = [
    "Connector",
    "ConnectorError",
    "ConnectorFactory",
    "SendResult",
    "SmsMessage",
    "UsageType",
    "__version__",
    "build_http_client",
    "get_factory",
    "list_factories",
]
