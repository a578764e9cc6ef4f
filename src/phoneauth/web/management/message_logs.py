"""The message log over the Management API: filters, and Logto's paging (`Total-Number`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.connectors import UsageType
from phoneauth.connectors.segments import Encoding
from phoneauth.domain.message_log import (
    MAX_PAGE_SIZE,
    Channel,
    DeliveryStatus,
    MessageLogEntry,
    MessageStatus,
)
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.wiring import Services

router = APIRouter(tags=["message logs"])


class MessageLogRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: str
    created_at: datetime = Field(alias="createdAt")
    connector_id: str | None = Field(
        alias="connectorId", description="The saved connector (`GET /api/connectors/{id}`)."
    )
    factory_id: str | None = Field(alias="factoryId", examples=["twilio-short-message-service"])
    usage_type: str = Field(alias="usageType", examples=["SignIn"])
    phone: str = Field(
        description="The masked recipient: a number's country code and last four digits, or "
        "an address's first character and domain (`j***@example.com`). Named `phone` since "
        "before email; `channel` says which."
    )
    channel: Channel = Field(description="`sms` or `email`: how the message was sent.")
    status: MessageStatus
    provider_message_id: str | None = Field(alias="providerMessageId")
    error_code: str | None = Field(alias="errorCode", examples=["connector.authorization_failed"])
    error_message: str | None = Field(alias="errorMessage")
    latency_ms: int | None = Field(alias="latencyMs")
    test_send: bool = Field(
        alias="testSend",
        description="A connector test send (code 000000), not a code sent to a user.",
    )
    delivery_status: DeliveryStatus | None = Field(
        default=None,
        alias="deliveryStatus",
        description="What the provider reported after taking the message: `accepted`, "
        "`sent`, `delivered`, `undelivered` or `failed`; null without reports.",
    )
    delivery_code: str | None = Field(
        default=None,
        alias="deliveryCode",
        description="The provider's own status or error code of its latest report.",
        examples=["30003"],
    )
    delivery_updated_at: datetime | None = Field(default=None, alias="deliveryUpdatedAt")
    delivery_latency_ms: int | None = Field(
        default=None,
        alias="deliveryLatencyMs",
        description="From the send to the final report's arrival.",
    )
    send_id: str | None = Field(
        default=None,
        alias="sendId",
        description="Shared by the attempts of one send (failover between connectors).",
    )
    attempt: int | None = Field(default=None, description="1 for a send's first attempt, ...")
    encoding: Encoding | None = Field(
        default=None,
        description="The SMS text's alphabet: `GSM-7` or `UCS-2` (any character outside GSM-7, "
        "such as an emoji or Cyrillic). Null when phoneauth does not know the text: providers "
        "that keep the templates (Aliyun, Tencent), the HTTP SMS gateway, emails.",
    )
    segments: int | None = Field(
        default=None,
        description="The SMS parts the text travels in, each billed as a message (GSM-7: 160 "
        "characters in one, 153 per part; UCS-2: 70, 67). Null when the text is not known.",
        examples=[1],
    )
    characters: int | None = Field(
        default=None,
        description="The text's length as the SMS counts it, autofill lines included: GSM-7 "
        "extension characters (`€ [ ] { } ^ ~ \\ |`) and emoji count 2. Null when unknown.",
        examples=[41],
    )

    @classmethod
    def of(cls, entry: MessageLogEntry) -> MessageLogRead:
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            connector_id=entry.connector_id,
            factory_id=entry.factory_id,
            usage_type=entry.usage_type,
            phone=entry.phone_masked,
            channel=entry.channel,
            status=entry.status,
            provider_message_id=entry.provider_message_id,
            error_code=entry.error_code,
            error_message=entry.error_message,
            latency_ms=entry.latency_ms,
            test_send=entry.test_send,
            delivery_status=entry.delivery_status,
            delivery_code=entry.delivery_code,
            delivery_updated_at=entry.delivery_updated_at,
            delivery_latency_ms=entry.delivery_latency_ms,
            send_id=entry.send_id,
            attempt=entry.attempt,
            encoding=entry.encoding,
            segments=entry.segments,
            characters=entry.characters,
        )


@router.get(
    "/message-logs",
    response_model=list[MessageLogRead],
    summary="Send attempts, newest first; the total is in the `Total-Number` header",
    responses=error_responses(InvalidPhoneNumberError),
)
async def list_message_logs(
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    status: MessageStatus | None = None,
    phone: Annotated[
        str | None, Query(max_length=64, description="A full number; matched by its mask.")
    ] = None,
    usage_type: Annotated[UsageType | None, Query(alias="usageType")] = None,
    factory_id: Annotated[
        str | None, Query(alias="factoryId", max_length=128, description="The sending connector.")
    ] = None,
    delivery_status: Annotated[DeliveryStatus | None, Query(alias="deliveryStatus")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> list[MessageLogRead]:
    services = services_of(request)
    search = MessageLogSearch(
        status=status,
        phone=phone,
        usage_type=usage_type,
        factory_id=factory_id,
        delivery_status=delivery_status,
        page=page,
        page_size=page_size,
    )
    return await _search(tenant.id, services, response, search)


class MessageLogSearch(BaseModel):
    """The filters of `GET /message-logs`, as a body: a number searched for stays out of URLs
    (and so out of access logs and proxies' logs)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    status: MessageStatus | None = None
    phone: str | None = Field(
        default=None, max_length=64, description="A full number; matched by its mask."
    )
    usage_type: UsageType | None = Field(default=None, alias="usageType")
    factory_id: str | None = Field(
        default=None, max_length=128, alias="factoryId", description="The sending connector."
    )
    delivery_status: DeliveryStatus | None = Field(default=None, alias="deliveryStatus")
    page: int = Field(default=1, ge=1, le=1_000_000)
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE, alias="pageSize")


@router.post(
    "/message-logs/search",
    response_model=list[MessageLogRead],
    summary="`GET /message-logs` with its filters in the body, so no number is in the URL",
    responses=error_responses(InvalidPhoneNumberError),
)
async def search_message_logs(
    tenant: ManagedTenantDep, request: Request, response: Response, body: MessageLogSearch
) -> list[MessageLogRead]:
    services = services_of(request)
    return await _search(tenant.id, services, response, body)


async def _search(
    tenant_id: str, services: Services, response: Response, search: MessageLogSearch
) -> list[MessageLogRead]:
    found = await services.message_log.query(
        tenant_id,
        status=search.status,
        phone=None if search.phone is None else parse_phone(search.phone),
        usage_type=search.usage_type,
        factory_id=search.factory_id,
        delivery_status=search.delivery_status,
        page=search.page,
        page_size=search.page_size,
    )
    response.headers["Total-Number"] = str(found.total)
    return [MessageLogRead.of(entry) for entry in found.entries]
