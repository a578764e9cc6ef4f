"""Which connector errors allow failover to another provider (transient) and which stop it."""

from __future__ import annotations

import pytest

from phoneauth.connectors import errors
from phoneauth.connectors.errors import ALL_CONNECTOR_ERRORS, ConnectorError, is_transient

TRANSIENT = {
    errors.ConnectorTimeoutError,
    errors.ConnectorUnreachableError,
    errors.InvalidCertificateError,
    errors.RateLimitExceededError,
    errors.UsageLimitExceededError,
}


@pytest.mark.parametrize("error_class", ALL_CONNECTOR_ERRORS, ids=lambda cls: cls.__name__)
def test_each_class_is_judged(error_class: type[ConnectorError]) -> None:
    """Every class of the family, without an HTTP status: only the listed ones are transient;
    any other (and any class added later) stops the failover."""
    assert is_transient(error_class()) is (error_class in TRANSIENT)


def test_the_ambiguous_answer_is_permanent_even_with_a_5xx_status() -> None:
    """An answer we could not read may mean the provider took the message: never resent."""
    assert not is_transient(errors.InvalidResponseError(http_status=502))


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (400, False)])
def test_a_general_error_is_transient_only_for_a_provider_5xx(status: int, transient: bool) -> None:
    assert is_transient(ConnectorError("The provider failed", http_status=status)) is transient


def test_a_broken_connectors_wrapped_error_is_permanent() -> None:
    """No HTTP status: it may have sent, so the code is not sent again elsewhere."""
    assert not is_transient(ConnectorError("The SMS connector failed unexpectedly."))


@pytest.mark.parametrize(
    "error",
    [
        errors.InvalidRequestParametersError(http_status=400),
        errors.AuthorizationFailedError(http_status=401),
        errors.TemplateNotFoundError(),
        errors.InvalidConfigError(),
        errors.DestinationForbiddenError(),
    ],
    ids=lambda error: error.code,
)
def test_refusals_the_operator_or_the_message_must_fix_are_permanent(
    error: ConnectorError,
) -> None:
    assert not is_transient(error)
