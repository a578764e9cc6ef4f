"""The message log over the Management API: filters, and Logto's paging (`Total-Number`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.connectors import UsageType
from phoneauth.domain.message_log import MAX_PAGE_SIZE, MessageLogEntry, MessageStatus
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.web.deps import ManagedTenantDep, ServicesDep
from phoneauth.web.errors import error_responses

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
    phone: str = Field(description="Masked: country code and last four digits.")
    status: MessageStatus
    provider_message_id: str | None = Field(alias="providerMessageId")
    error_code: str | None = Field(alias="errorCode", examples=["connector.authorization_failed"])
    error_message: str | None = Field(alias="errorMessage")
    latency_ms: int | None = Field(alias="latencyMs")

    @classmethod
    def of(cls, entry: MessageLogEntry) -> MessageLogRead:
        return cls(
            id=entry.id,
            created_at=entry.created_at,
            connector_id=entry.connector_id,
            factory_id=entry.factory_id,
            usage_type=entry.usage_type,
            phone=entry.phone_masked,
            status=entry.status,
            provider_message_id=entry.provider_message_id,
            error_code=entry.error_code,
            error_message=entry.error_message,
            latency_ms=entry.latency_ms,
        )


@router.get(
    "/message-logs",
    response_model=list[MessageLogRead],
    summary="Send attempts, newest first; the total is in the `Total-Number` header",
    responses=error_responses(InvalidPhoneNumberError),
)
async def list_message_logs(
    tenant: ManagedTenantDep,
    services: ServicesDep,
    response: Response,
    status: MessageStatus | None = None,
    phone: Annotated[
        str | None, Query(max_length=64, description="A full number; matched by its mask.")
    ] = None,
    usage_type: Annotated[UsageType | None, Query(alias="usageType")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> list[MessageLogRead]:
    found = await services.message_log.query(
        tenant.id,
        status=status,
        phone=None if phone is None else parse_phone(phone),
        usage_type=usage_type,
        page=page,
        page_size=page_size,
    )
    response.headers["Total-Number"] = str(found.total)
    return [MessageLogRead.of(entry) for entry in found.entries]
