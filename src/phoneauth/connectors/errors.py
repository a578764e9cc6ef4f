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


TRANSIENT_ERRORS: tuple[type[ConnectorError], ...] = (
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    InvalidCertificateError,
    RateLimitExceededError,
    UsageLimitExceededError,
)
"""The failures of one provider that another provider may not share: it could not be reached,
did not answer in time, or refused for its own account's reasons (throttling, balance)."""


def is_transient(error: ConnectorError) -> bool:
    """Whether the same message may be sent again through another provider (failover).

    Transient: a timeout, an unreachable provider (TLS failures included: no message left), a
    provider that throttles or whose balance is exhausted, and a plain `ConnectorError` for an
    HTTP 5xx answer (`details["http_status"] >= 500`): another provider may well succeed.

    Permanent, everything else, and so the default for a class added later: the message itself
    is refused (invalid number or parameters, no usable template), or the connector cannot work
    without the operator (bad credentials, invalid config, forbidden destination).
    `InvalidResponseError` is permanent on purpose: the provider answered something we could
    not read, and it may have taken (and sent) the message, so a second provider would send the
    same code twice. A contract-breaking connector's wrapped error has no HTTP status and is
    permanent for the same reason.
    """
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if type(error) is ConnectorError:
        status = error.details.get("http_status")
        return isinstance(status, int) and status >= 500
    return False
