"""The connector kit: one small interface every SMS and email provider implements.

factory = get_factory("twilio-short-message-service")
connector = factory.build(config_json, client)
result = await connector.send(SmsMessage(to="+4915112345678", usage_type=UsageType.SIGN_IN,
                                         payload={"code": "123456"}))
"""

from phoneauth.connectors.autofill import Autofill
from phoneauth.connectors.base import (
    Connector,
    ConnectorType,
    EmailConnector,
    EmailMessage,
    RendersText,
    SendResult,
    SmsMessage,
    UsageType,
    mask_phone,
    to_e164,
)
from phoneauth.connectors.config import (
    CodeTemplate,
    ConnectorConfig,
    ContentTemplate,
    EmailTemplate,
    EndpointUrl,
    HeaderSafe,
    dump_config,
    parse_config,
    secret_fields,
)
from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    ConnectorFactoryNotFoundError,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    DestinationForbiddenError,
    DuplicateConnectorFactoryError,
    InsufficientRequestParametersError,
    InvalidConfigError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
    TemplateNotFoundError,
    UsageLimitExceededError,
)
from phoneauth.connectors.factory import ConnectorFactory
from phoneauth.connectors.http import HttpConnector, build_http_client
from phoneauth.connectors.registry import (
    ConnectorRegistry,
    default_registry,
    get_factory,
    list_factories,
    load_registry,
)
from phoneauth.connectors.segments import SmsSize, measure
from phoneauth.connectors.templates import render_sms

__all__ = [
    "AuthorizationFailedError",
    "Autofill",
    "CodeTemplate",
    "Connector",
    "ConnectorConfig",
    "ConnectorError",
    "ConnectorFactory",
    "ConnectorFactoryNotFoundError",
    "ConnectorRegistry",
    "ConnectorTimeoutError",
    "ConnectorType",
    "ConnectorUnreachableError",
    "ContentTemplate",
    "DestinationForbiddenError",
    "DuplicateConnectorFactoryError",
    "EmailConnector",
    "EmailMessage",
    "EmailTemplate",
    "EndpointUrl",
    "HeaderSafe",
    "HttpConnector",
    "InsufficientRequestParametersError",
    "InvalidConfigError",
    "InvalidRequestParametersError",
    "InvalidResponseError",
    "RateLimitExceededError",
    "RendersText",
    "SendResult",
    "SmsMessage",
    "SmsSize",
    "TemplateNotFoundError",
    "UsageLimitExceededError",
    "UsageType",
    "build_http_client",
    "default_registry",
    "dump_config",
    "get_factory",
    "list_factories",
    "load_registry",
    "mask_phone",
    "measure",
    "parse_config",
    "render_sms",
    "secret_fields",
    "to_e164",
]
