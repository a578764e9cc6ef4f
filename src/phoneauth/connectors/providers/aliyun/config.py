"""The Aliyun SMS config: Logto's `connector-aliyun-sms` keys, plus endpoint, region and signing.

A Logto config validates unchanged, template `type` included; the template code may be one code
or a `{china, overseas}` pair chosen with Logto's mainland rule.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from phoneauth.connectors.config import (
    CodeTemplate,
    ConnectorConfig,
    EndpointUrl,
    HeaderSafe,
    unique_templates,
)

DEFAULT_ENDPOINT = "https://dysmsapi.aliyuncs.com"
INTERNATIONAL_ENDPOINT = "https://dysmsapi.ap-southeast-1.aliyuncs.com"
REGIONAL_ENDPOINTS = {  # from the SDK's endpoint map: regions that do not use the default host
    region: f"https://dysmsapi.{region}.aliyuncs.com"
    for region in ("ap-southeast-1", "ap-southeast-5", "eu-central-1")
}
# Logto's `isChinaNumber`: a mainland mobile is 1 + 10 digits; strict mode needs the 86 prefix.
_MAINLAND = {
    False: re.compile(r"(?:\+86|0086|86)?1\d{10}"),
    True: re.compile(r"(?:\+86|0086|86)1\d{10}"),
}


class SmsTemplateType(IntEnum):
    """Logto's template category; validated for compatibility, never sent to Aliyun."""

    NOTIFICATION = 0
    PROMOTION = 1
    VERIFICATION_CODE = 2
    INTERNATIONAL_MESSAGE = 6
    PURE_NUMBER = 7


class RegionalTemplateCodes(BaseModel):
    """Mainland numbers need a mainland template, all others an international one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    china: str = Field(
        min_length=1,
        title="Mainland template code",
        description="Template CODE for Chinese mainland mobile numbers.",
    )
    overseas: str = Field(
        min_length=1,
        title="Overseas template code",
        description="International template CODE for every other number (HK, Macao, TW too).",
    )


class AliyunTemplate(CodeTemplate):
    """Logto's Aliyun template: `type`, `usageType` and one code or a `{china, overseas}` pair."""

    template_type: SmsTemplateType = Field(
        default=SmsTemplateType.VERIFICATION_CODE,
        alias="type",
        title="Template type",
        description="0 notification, 1 promotion, 2 verification code, 6 international, 7 digits.",
    )
    # Logto allows a pair here, so the kit's plain string is widened.
    template_code: Annotated[str, Field(min_length=1)] | RegionalTemplateCodes = Field(  # type: ignore[assignment]
        alias="templateCode",
        title="Template code",
        description="The approved template's CODE (`SMS_…`), or `{china, overseas}` codes.",
    )

    def code_for(self, digits: str, *, strict: bool) -> str:
        """The template CODE to use for this recipient (digits with country code, no `+`)."""
        if isinstance(self.template_code, str):
            return self.template_code
        china = is_china_number(digits, strict=strict)
        return self.template_code.china if china else self.template_code.overseas


def is_china_number(digits: str, *, strict: bool) -> bool:
    """Logto's rule, applied to the digits-only number Logto's connectors receive."""
    return _MAINLAND[strict].fullmatch(digits) is not None


class AliyunSmsConfig(ConnectorConfig):
    access_key_id: Annotated[str, HeaderSafe] = Field(  # in v3's `Authorization` as is
        alias="accessKeyId",
        min_length=1,
        title="AccessKey ID",
        description="RAM console → AccessKey; its user needs the AliyunDysmsFullAccess policy.",
    )
    access_key_secret: SecretStr = Field(
        alias="accessKeySecret",
        min_length=1,
        title="AccessKey secret",
        description="Shown once, when the AccessKey is created.",
    )
    sign_name: str = Field(
        alias="signName",
        min_length=1,
        title="Signature name",
        description="An approved SMS signature (签名), used with every template.",
    )
    templates: Annotated[tuple[AliyunTemplate, ...], AfterValidator(unique_templates)] = Field(
        min_length=1,
        title="SMS templates",
        description="One approved template per usage type; Generic is the fallback.",
    )
    strict_phone_region_number_check: bool = Field(
        default=False,
        alias="strictPhoneRegionNumberCheck",
        title="Strict mainland check",
        description="Treat a number as mainland only with its 86 prefix, not any 1 + 10 digits.",
    )
    endpoint: EndpointUrl | None = Field(
        default=None,
        title="Endpoint",
        description=f"Default {DEFAULT_ENDPOINT}; international site {INTERNATIONAL_ENDPOINT}.",
    )
    region_id: str = Field(
        default="cn-hangzhou",
        alias="regionId",
        min_length=1,
        title="Region ID",
        description="Sent as RegionId with v2; picks the regional host when no endpoint is set.",
    )
    signature_version: Literal["v3", "v2"] = Field(
        default="v3",
        alias="signatureVersion",
        title="Signature version",
        description="v3: ACS3-HMAC-SHA256 (current); v2: legacy RPC HMAC-SHA1, as Logto signs.",
    )

    @property
    def base_url(self) -> str:
        """The endpoint to call: the override, else the region's host, else the default host."""
        return self.endpoint or REGIONAL_ENDPOINTS.get(self.region_id, DEFAULT_ENDPOINT)
