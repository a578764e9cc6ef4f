"""`/api/sms-routing`: phoneauth's own resource beside Logto's one active SMS connector.

Standby connectors (configs validated, encrypted and masked like the active connector's), the
routing rules (routes by country, fallback order, deadline, circuit breaker) and the circuits'
current states in this process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.connectors.errors import InvalidConfigError, UnexpectedTypeError
from phoneauth.domain.circuit_breaker import CircuitView
from phoneauth.domain.connector_management import DevelopmentOnlyError, UnknownFactoryError
from phoneauth.domain.delivery_routing import (
    StandbyConnector,
    StandbyInUseError,
    StandbyNotFoundError,
    TooManyStandbyError,
)
from phoneauth.domain.sms_routing import (
    DuplicateRoutingCountryError,
    InvalidRoutingCountryError,
    RoutingRulesError,
    UnknownRoutingConnectorError,
)
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses

router = APIRouter(tags=["sms routing"])


class StandbyRead(BaseModel):
    id: str
    connectorId: str = Field(description="The factory id, as in `GET /api/connectors`.")
    config: dict[str, Any] = Field(description="Every secret reads `**********`.")
    createdAt: datetime
    updatedAt: datetime


class CircuitRead(BaseModel):
    connectorId: str = Field(description="A standby connector's id or the active connector's.")
    state: str = Field(description="`closed`, `open` or `halfOpen`.")
    consecutiveFailures: int
    retryInSeconds: float | None = Field(description="Open: seconds until the next probe.")


class RouteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    countries: list[Any] = Field(examples=[["CN", "HK"]], description="ISO 3166 region codes.")
    connectors: list[Any] = Field(description="Standby connector ids, or `active`.")


class CircuitBreakerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    failureThreshold: Any = Field(default=None, description="1 to 100; default 5.")
    cooldownSeconds: Any = Field(default=None, description="1 to 3600; default 30.")


class RoutingRulesBody(BaseModel):
    """The whole rules document (PUT: a field left out gets its default)."""

    model_config = ConfigDict(extra="forbid")
    routes: list[RouteBody] = Field(default_factory=list)
    fallback: list[Any] = Field(
        default_factory=list, description="Tried after the active connector, in order."
    )
    deadlineSeconds: Any = Field(default=None, description="1 to 60; default 10.")
    circuitBreaker: CircuitBreakerBody | None = None


class RoutingRead(BaseModel):
    standbyConnectors: list[StandbyRead]
    routes: list[dict[str, list[str]]]
    fallback: list[str]
    deadlineSeconds: float
    circuitBreaker: dict[str, float]
    configured: bool = Field(description="False until rules are saved: the active connector alone.")
    circuits: list[CircuitRead]


class StandbyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    connectorId: str = Field(min_length=1, max_length=128, description="The factory id.")
    config: dict[str, Any] = Field(default_factory=dict)


class StandbyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    config: dict[str, Any]


def standby_read(standby: StandbyConnector) -> StandbyRead:
    return StandbyRead(
        id=standby.id,
        connectorId=standby.factory_id,
        config=standby.config,
        createdAt=standby.created_at,
        updatedAt=standby.updated_at,
    )


def circuit_read(view: CircuitView) -> CircuitRead:
    return CircuitRead(
        connectorId=view.connector_id,
        state=view.state.value,
        consecutiveFailures=view.consecutive_failures,
        retryInSeconds=view.retry_in_seconds,
    )


RULE_ERRORS = (
    RoutingRulesError,
    UnknownRoutingConnectorError,
    InvalidRoutingCountryError,
    DuplicateRoutingCountryError,
)


@router.get("/sms-routing", response_model=RoutingRead, summary="Standby connectors and rules")
async def read_routing(tenant: ManagedTenantDep, request: Request) -> RoutingRead:
    services = services_of(request)
    overview = await services.delivery_routing.overview(tenant.id)
    document = overview.rules.to_document()
    return RoutingRead(
        standbyConnectors=[standby_read(standby) for standby in overview.standby],
        configured=overview.configured,
        circuits=[circuit_read(view) for view in overview.circuits],
        **document,
    )


@router.put(
    "/sms-routing",
    response_model=RoutingRead,
    summary="Replace the routing rules",
    responses=error_responses(*RULE_ERRORS),
)
async def put_routing(
    body: RoutingRulesBody, tenant: ManagedTenantDep, request: Request
) -> RoutingRead:
    services = services_of(request)
    await services.delivery_routing.put_rules(tenant.id, body.model_dump(exclude_none=True))
    return await read_routing(tenant, request)


@router.post(
    "/sms-routing/connectors",
    response_model=StandbyRead,
    status_code=201,
    summary="Add a standby SMS connector",
    responses=error_responses(
        InvalidConfigError,
        UnknownFactoryError,
        UnexpectedTypeError,
        DevelopmentOnlyError,
        TooManyStandbyError,
    ),
)
async def add_standby(
    body: StandbyCreate, tenant: ManagedTenantDep, request: Request
) -> StandbyRead:
    services = services_of(request)
    added = await services.delivery_routing.add_standby(tenant, body.connectorId, body.config)
    return standby_read(added)


@router.patch(
    "/sms-routing/connectors/{connector_id}",
    response_model=StandbyRead,
    summary="Replace a standby connector's config; `**********` keeps a stored secret",
    responses=error_responses(StandbyNotFoundError, InvalidConfigError, DevelopmentOnlyError),
)
async def update_standby(
    connector_id: str, body: StandbyUpdate, tenant: ManagedTenantDep, request: Request
) -> StandbyRead:
    services = services_of(request)
    updated = await services.delivery_routing.update_standby(tenant, connector_id, body.config)
    return standby_read(updated)


@router.delete(
    "/sms-routing/connectors/{connector_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a standby connector that no rule names",
    responses=error_responses(StandbyNotFoundError, StandbyInUseError),
)
async def delete_standby(connector_id: str, tenant: ManagedTenantDep, request: Request) -> Response:
    services = services_of(request)
    await services.delivery_routing.delete_standby(tenant.id, connector_id)
    return Response(status_code=204)
