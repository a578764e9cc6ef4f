"""What Tencent Cloud SMS answers: the meaning of its error codes, and its success reply.

Codes from Tencent's common error list and the SMS 2021-01-11 list (`errorcodes.py` of the
official SDK). They arrive with HTTP 200, either as `Response.Error.Code` (the whole request failed)
or as `SendStatusSet[i].Code` (this number failed); both go through `provider_error`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from phoneauth.connectors.errors import (
    AuthorizationFailedError,
    ConnectorError,
    InvalidConfigError,
    InvalidRequestParametersError,
    RateLimitExceededError,
    UsageLimitExceededError,
)

_EXACT: dict[str, type[ConnectorError]] = {
    # Out of credit: nothing is sent until the account is topped up.
    "FailedOperation.InsufficientBalanceInSmsPackage": UsageLimitExceededError,
    "UnauthorizedOperation.ServiceSuspendDueToArrears": UsageLimitExceededError,
    # Caps for the whole app that hold until the next day, unlike the per-number throttles.
    "LimitExceeded.AppDailyLimit": UsageLimitExceededError,
    "LimitExceeded.AppMainlandChinaDailyLimit": UsageLimitExceededError,
    "LimitExceeded.AppGlobalDailyLimit": UsageLimitExceededError,
    "LimitExceeded.AppCountryOrRegionDailyLimit": UsageLimitExceededError,
    "LimitExceeded.DailyLimit": UsageLimitExceededError,
    # The console does not allow this destination country.
    "LimitExceeded.AppCountryOrRegionInBlacklist": InvalidConfigError,
    # The recipient: a malformed, unparsable, missing or opted-out number.
    "InvalidParameterValue.IncorrectPhoneNumber": InvalidRequestParametersError,
    "FailedOperation.PhoneNumberParseFail": InvalidRequestParametersError,
    "FailedOperation.PhoneNumberInBlacklist": InvalidRequestParametersError,
    "MissingParameter.EmptyPhoneNumberSet": InvalidRequestParametersError,
    "LimitExceeded.PhoneNumberCountLimit": InvalidRequestParametersError,
    # Signature, template or app settings the operator must fix in the console or the config.
    "FailedOperation.SignatureIncorrectOrUnapproved": InvalidConfigError,
    "FailedOperation.MissingSignatureList": InvalidConfigError,
    "FailedOperation.TemplateIncorrectOrUnapproved": InvalidConfigError,
    "FailedOperation.TemplateUnapprovedOrNotExist": InvalidConfigError,
    "FailedOperation.TemplateIdNotExist": InvalidConfigError,
    "FailedOperation.MissingTemplateList": InvalidConfigError,
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": InvalidConfigError,
    "FailedOperation.ContainSensitiveWord": InvalidConfigError,
    "FailedOperation.MarketingSendTimeConstraint": InvalidConfigError,
    "InvalidParameterValue.TemplateParameterFormatError": InvalidConfigError,
    "InvalidParameterValue.TemplateParameterLengthLimit": InvalidConfigError,
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": InvalidConfigError,
    "InvalidParameterValue.ContentLengthLimit": InvalidConfigError,
    "InvalidParameterValue.SdkAppIdNotExist": InvalidConfigError,
    "InvalidParameter.AppidAndBizId": InvalidConfigError,
    "InvalidParameter.DirtyWordFound": InvalidConfigError,
}

# Checked in order after the exact codes; the first matching prefix wins.
_PREFIXES: tuple[tuple[str, type[ConnectorError]], ...] = (
    ("AuthFailure", AuthorizationFailedError),
    ("RequestLimitExceeded", RateLimitExceededError),
    ("LimitExceeded.", RateLimitExceededError),
    ("UnauthorizedOperation.", InvalidConfigError),
    ("UnsupportedOperation.", InvalidConfigError),
    ("InternalError", ConnectorError),
)


def error_class(code: str) -> type[ConnectorError] | None:
    """The error class for a Tencent code, or `None` when the connector should use its fallback."""
    found = _EXACT.get(code)
    if found is not None:
        return found
    for prefix, error in _PREFIXES:
        if code.startswith(prefix):
            return error
    return None


def reply_object(response: httpx.Response) -> dict[str, Any] | None:
    """The `Response` object of a Tencent answer, or `None` when the body has none."""
    try:
        body = response.json()
    except ValueError:
        return None
    reply = body.get("Response") if isinstance(body, dict) else None
    return reply if isinstance(reply, dict) else None


def provider_error(
    code: object, message: object, http_status: int, request_id: object
) -> ConnectorError | None:
    """The error for one failure Tencent reported, with its code, message and request id."""
    cls = error_class(code) if isinstance(code, str) else None
    if cls is None:
        return None
    return cls(
        f"Tencent Cloud SMS did not send the message ({code}): {message}",
        provider_code=code,
        provider_message=message,
        http_status=http_status,
        request_id=request_id,
    )


def success_reply(request: httpx.Request) -> httpx.Response:
    """Tencent's answer to a SendSms it accepted: HTTP 200, `Code` "Ok" for every number."""
    numbers: list[str] = json.loads(request.content)["PhoneNumberSet"]
    statuses: list[dict[str, Any]] = [
        {
            "SerialNo": f"5000:10457106691570536578494996{index:02d}",
            "PhoneNumber": number,
            "Fee": 1,
            "SessionContext": "",
            "Code": "Ok",
            "Message": "send success",
            "IsoCode": "CN" if number.startswith("+86") else "DE",
        }
        for index, number in enumerate(numbers)
    ]
    reply = {
        "Response": {"SendStatusSet": statuses, "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}
    }
    # Exactly `application/json`, no charset, as Tencent sends it (the official SDK relies on it).
    return httpx.Response(200, json=reply)
