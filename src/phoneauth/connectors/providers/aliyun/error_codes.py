"""What Aliyun's `Code` values mean for phoneauth: business codes (HTTP 200) and gateway codes.

Business errors arrive with HTTP 200 and `Code != "OK"`; gateway errors (signature, key, throttle)
with HTTP 4xx/5xx. Codes not listed here fall back to the HTTP status (`fallback_error`).
"""

from __future__ import annotations

import re

from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    RateLimitExceededError,
    UsageLimitExceededError,
)

ERROR_CLASSES: dict[str, type[ConnectorError]] = {
    # Per-number flow control (1/min, 5/h, 10/day by default) and account volume caps.
    "isv.BUSINESS_LIMIT_CONTROL": RateLimitExceededError,
    "isv.DAY_LIMIT_CONTROL": RateLimitExceededError,
    "isv.MONTH_LIMIT_CONTROL": RateLimitExceededError,
    "isv.AMOUNT_NOT_ENOUGH": UsageLimitExceededError,
    "isv.OUT_OF_SERVICE": UsageLimitExceededError,
    # The recipient or a value phoneauth sent.
    "isv.MOBILE_NUMBER_ILLEGAL": InvalidRequestParametersError,
    "isv.MOBILE_COUNT_OVER_LIMIT": InvalidRequestParametersError,
    "isv.INVALID_JSON_PARAM": InvalidRequestParametersError,
    "isv.INVALID_PARAMETERS": InvalidRequestParametersError,
    "isv.PARAM_LENGTH_LIMIT": InvalidRequestParametersError,
    "isv.PARAM_NOT_SUPPORT_URL": InvalidRequestParametersError,
    # Signature name, template, account or source IP: the operator must fix the setup.
    "isv.SMS_TEMPLATE_ILLEGAL": InvalidConfigError,
    "isv.SMS_SIGNATURE_ILLEGAL": InvalidConfigError,
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": InvalidConfigError,
    "isv.SIGN_STATE_ILLEGAL": InvalidConfigError,
    "isv.SMS_SIGN_ILLEGAL": InvalidConfigError,
    "isv.SMS_CONTENT_ILLEGAL": InvalidConfigError,
    "isv.BLACK_KEY_CONTROL_LIMIT": InvalidConfigError,
    "isv.TEMPLATE_MISSING_PARAMETERS": InvalidConfigError,
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": InvalidConfigError,
    "isv.DENY_IP_RANGE": InvalidConfigError,
    "isv.ACCOUNT_NOT_EXISTS": InvalidConfigError,
    "isv.ACCOUNT_ABNORMAL": InvalidConfigError,
    "isv.PRODUCT_UN_SUBSCRIPT": InvalidConfigError,
    "isv.PRODUCT_UNSUBSCRIBE": InvalidConfigError,
    # The AccessKey pair, or a RAM user without AliyunDysmsFullAccess.
    "SignatureDoesNotMatch": AuthorizationFailedError,
    "IncompleteSignature": AuthorizationFailedError,
    "isp.RAM_PERMISSION_DENY": AuthorizationFailedError,
}

PREFIXES: tuple[tuple[str, type[ConnectorError]], ...] = (
    ("InvalidAccessKeyId", AuthorizationFailedError),  # .NotFound (404), .Inactive
    ("Throttling", RateLimitExceededError),  # gateway throttles: Throttling.User, .Api
    ("isp.", ConnectorError),  # Aliyun's own failures, e.g. isp.SYSTEM_ERROR
)

# A gateway `SignatureDoesNotMatch` echoes the server's string to sign, which holds every
# parameter, the verification code included: never keep that part.
_ECHOED_REQUEST = re.compile(r"\s*[.;,]?\s*server string to sign is.*", re.IGNORECASE | re.DOTALL)


def error_class(code: str) -> type[ConnectorError] | None:
    """The class for an Aliyun code, or `None` to let the HTTP status decide."""
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    for prefix, cls in PREFIXES:
        if code.startswith(prefix):
            return cls
    return None


def safe_message(message: object) -> str | None:
    """The provider's message without any echo of the request, and bounded in length."""
    if not isinstance(message, str) or not message.strip():
        return None
    return _ECHOED_REQUEST.sub("", message).strip()[:300] or None
