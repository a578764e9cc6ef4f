"""The ConnectorError family: Logto's `ConnectorErrorCodes` plus two transport codes of ours.

Every provider failure surfaces as one of these, with the provider's own code and message in
`details` (keys `provider`, `provider_code`, `provider_message`, `http_status`) and never a secret.
`status` is 4xx when the caller or the operator can fix it and 5xx when the provider failed.
"""

from __future__ import annotations

from typing import ClassVar

from phoneauth.errors import PhoneauthError


class ConnectorError(PhoneauthError):
    """The SMS provider could not deliver the message."""

    code: ClassVar[str] = "connector.general"
    status: ClassVar[int] = 502


class InvalidMetadataError(ConnectorError):
    """The connector package declares invalid metadata."""

    code = "connector.invalid_metadata"
    status = 500


class UnexpectedTypeError(ConnectorError):
    """The connector is not of the type the request needs (SMS for a phone, Email for email)."""

    code = "connector.unexpected_type"
    status = 400


class InvalidConfigGuardError(ConnectorError):
    """The connector package has no usable configuration model."""

    code = "connector.invalid_config_guard"
    status = 500


class InvalidRequestParametersError(ConnectorError):
    """The provider refused the message's parameters, most often the phone number."""

    code = "connector.invalid_request_parameters"
    status = 400


class InsufficientRequestParametersError(ConnectorError):
    """The message lacks a value the template or the provider needs."""

    code = "connector.insufficient_request_parameters"
    status = 400


class InvalidConfigError(ConnectorError):
    """The connector's config is invalid."""

    code = "connector.invalid_config"
    status = 400


class DestinationForbiddenError(InvalidConfigError):
    """The connector's endpoint is not a public address; connectors do not send there."""

    code = "connector.destination_forbidden"
    status = 400


class InvalidCertificateError(ConnectorError):
    """The provider's certificate could not be verified."""

    code = "connector.invalid_certificate"
    status = 502


class InvalidResponseError(ConnectorError):
    """The provider's response could not be understood."""

    code = "connector.invalid_response"
    status = 502


class TemplateNotFoundError(ConnectorError):
    """No SMS template fits this usage type, and there is no Generic template to fall back to."""

    code = "connector.template_not_found"
    status = 400


class TemplateNotSupportedError(ConnectorError):
    """The connector does not support this template."""

    code = "connector.template_not_supported"
    status = 400


class RateLimitExceededError(ConnectorError):
    """The provider throttled the request; try again later."""

    code = "connector.rate_limit_exceeded"
    status = 429


class UsageLimitExceededError(ConnectorError):
    """The provider account's balance or quota is exhausted."""

    code = "connector.usage_limit_exceeded"
    status = 429


class NotImplementedConnectorError(ConnectorError):
    """The connector does not implement this operation."""

    code = "connector.not_implemented"
    status = 501


class AuthorizationFailedError(ConnectorError):
    """The provider refused the connector's credentials."""

    code = "connector.authorization_failed"
    status = 502


class ConnectorTimeoutError(ConnectorError):
    """The provider did not answer in time; the message may or may not have been sent."""

    code = "connector.timeout"
    status = 504


class ConnectorUnreachableError(ConnectorError):
    """The provider could not be reached (DNS, refused connection, TLS or network failure)."""

    code = "connector.unreachable"
    status = 502


class ConnectorFactoryNotFoundError(ConnectorError):
    """No installed connector factory has this id."""

    code = "connector.not_found_with_connector_id"
    status = 404


class DuplicateConnectorFactoryError(ConnectorError):
    """Two installed connector packages declare the same factory id."""

    code = "connector.more_than_one_connector_factory"
    status = 500


ALL_CONNECTOR_ERRORS: tuple[type[ConnectorError], ...] = (
    ConnectorError,
    InvalidMetadataError,
    UnexpectedTypeError,
    InvalidConfigGuardError,
    InvalidRequestParametersError,
    InsufficientRequestParametersError,
    InvalidConfigError,
    DestinationForbiddenError,
    InvalidCertificateError,
    InvalidResponseError,
    TemplateNotFoundError,
    TemplateNotSupportedError,
    RateLimitExceededError,
    UsageLimitExceededError,
    NotImplementedConnectorError,
    AuthorizationFailedError,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    ConnectorFactoryNotFoundError,
    DuplicateConnectorFactoryError,
)
