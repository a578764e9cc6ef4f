"""The one exception root of phoneauth, so every layer can be answered in one envelope.

PhoneauthError                       code "general"
└── ConnectorError                   code "connector.general" (phoneauth.connectors.errors)
    ├── InvalidConfigError               connector.invalid_config
    │   └── DestinationForbiddenError        connector.destination_forbidden
    ├── InvalidRequestParametersError    connector.invalid_request_parameters
    ├── TemplateNotFoundError            connector.template_not_found
    ├── RateLimitExceededError           connector.rate_limit_exceeded
    ├── UsageLimitExceededError          connector.usage_limit_exceeded
    ├── AuthorizationFailedError         connector.authorization_failed
    ├── InvalidResponseError             connector.invalid_response
    ├── ConnectorTimeoutError            connector.timeout
    └── ConnectorUnreachableError        connector.unreachable
"""

from __future__ import annotations

from typing import ClassVar


class PhoneauthError(Exception):
    """Base of every error phoneauth raises on purpose.

    Attributes:
        code: a stable dotted string (Logto's where Logto has one), never renamed.
        status: the HTTP status the web layer answers with; the lower layers never import HTTP.
        details: JSON-safe facts for the caller; never a secret or a verification code.
        data: Logto's `data` member of the error body where Logto has one (e.g. the issues of
            `password.rejected`, the fields of `user.missing_profile`); None leaves it out.
    """

    code: ClassVar[str] = "general"
    status: ClassVar[int] = 500

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.message = message or (self.__doc__ or self.code).strip().splitlines()[0]
        super().__init__(self.message)
        self.details: dict[str, object] = details
        self.data: object = None

    def to_dict(self) -> dict[str, object]:
        """The error envelope shared by the API and the CLI."""
        shown: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }
        if self.data is not None:
            shown["data"] = self.data
        return shown


class DatabaseTroubleError(PhoneauthError):
    """The database cannot take the request now; it may be sent again after `retry_after` s."""

    status = 503
    default_retry_after = 1

    def __init__(self, retry_after: int | None = None) -> None:
        seconds = self.default_retry_after if retry_after is None else retry_after
        super().__init__(None, retry_after=seconds)
        self.retry_after = seconds


class DatabaseBusyError(DatabaseTroubleError):
    """The server is busy; try again in a moment."""

    code = "server.busy"


class DatabaseUnavailableError(DatabaseTroubleError):
    """The database cannot be reached right now; try again in a moment."""

    code = "server.unavailable"
    default_retry_after = 5


class UnstorableTextError(PhoneauthError):
    """Text with a NUL character or a lone surrogate cannot be stored or looked up."""

    code = "guard.invalid_input"
    status = 400
