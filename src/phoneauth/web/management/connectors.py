"""Connectors over the Management API: Logto's paths and JSON shapes, secrets always masked."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from phoneauth.connectors import (
    AuthorizationFailedError,
    ConnectorError,
    ConnectorFactory,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    DestinationForbiddenError,
    InsufficientRequestParametersError,
    InvalidConfigError,
    InvalidRequestParametersError,
    InvalidResponseError,
    RateLimitExceededError,
    TemplateNotFoundError,
    UsageLimitExceededError,
)
from phoneauth.connectors.base import normalize_email
from phoneauth.connectors.errors import InvalidCertificateError, UnexpectedTypeError
from phoneauth.connectors.forms import form_items
from phoneauth.domain import connector_removal
from phoneauth.domain.connector_management import (
    SERVER_LOCAL_KEYS,
    ConnectorConflictError,
    ConnectorNotFoundError,
    DevelopmentOnlyError,
    FactoryNotFoundError,
    ManagedConnector,
    OutboxForbiddenError,
    UnknownFactoryError,
)
from phoneauth.domain.sign_in_experience import ConnectorInUseError
from phoneauth.domain.tenants import Tenant
from phoneauth.errors import PhoneauthError
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.wiring import Services

router = APIRouter(tags=["connectors"])

SEND_ERRORS: tuple[type[ConnectorError], ...] = (
    ConnectorError,
    InvalidRequestParametersError,
    InsufficientRequestParametersError,
    InvalidConfigError,
    DestinationForbiddenError,
    TemplateNotFoundError,
    RateLimitExceededError,
    UsageLimitExceededError,
    AuthorizationFailedError,
    InvalidResponseError,
    InvalidCertificateError,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
)
"""What a test send may answer: the connector's own errors, as the codes engine does."""


class MetadataNotSupportedError(PhoneauthError):
    """Metadata can only be overwritten for standard (social) connectors."""

    code = "connector.cannot_overwrite_metadata_for_non_standard_connector"
    status = 400


class SyncProfileNotSupportedError(PhoneauthError):
    """Only social connectors sync profiles."""

    code = "connector.invalid_type_for_syncing_profile"
    status = 422


def _json_boolean(value: object) -> object:
    """`false` only: pydantic's `Literal[False]` also takes `0` and `0.0` (they equal False)."""
    if not isinstance(value, bool):
        raise ValueError("must be a JSON boolean")
    return value


OnlyFalse = Annotated[Literal[False], BeforeValidator(_json_boolean)]
"""Logto's social-only flag: a JSON `false` (or absent), as the OpenAPI `const: false` says."""


class _Logto(BaseModel):
    model_config = ConfigDict(extra="ignore")  # zod objects strip unknown keys, as Logto does


class FactoryRead(BaseModel):
    """Logto's factory JSON (`ConnectorMetadata` + `type`, `isDemo`) plus our `configSchema`."""

    id: str
    target: str
    type: Literal["Sms", "Email"]
    platform: None
    isDemo: bool
    name: dict[str, str]
    description: dict[str, str]
    logo: str
    logoDark: str | None
    readme: str
    configTemplate: str | None
    formItems: list[dict[str, Any]]
    configSchema: dict[str, Any] = Field(description="The config model's JSON schema, by alias.")


class ConnectorRead(BaseModel):
    """Logto's `connectorResponseGuard`; every secret in `config` reads `**********`."""

    id: str
    connectorId: str
    type: Literal["Sms", "Email"]
    config: dict[str, Any]
    metadata: dict[str, Any]
    syncProfile: bool
    enableTokenStorage: bool
    isDemo: bool
    target: str
    name: dict[str, str]
    description: dict[str, str]
    logo: str
    logoDark: str | None
    readme: str
    configTemplate: str | None
    formItems: list[dict[str, Any]]
    platform: None


class ConnectorCreate(_Logto):
    connectorId: str = Field(min_length=1, max_length=128, description="The factory id.")
    config: dict[str, Any] = Field(default_factory=dict)
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,128}$")
    metadata: dict[str, Any] | None = None
    syncProfile: StrictBool | None = None
    enableTokenStorage: OnlyFalse | None = None


class ConnectorUpdate(_Logto):
    config: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    syncProfile: StrictBool | None = None
    enableTokenStorage: OnlyFalse | None = None


class TestSend(_Logto):
    phone: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="E.164 (`+4915112345678`) or Logto's digits (`4915112345678`).",
    )
    email: str | None = Field(
        default=None, max_length=320, description="The address for an Email factory."
    )
    config: dict[str, Any]
    locale: str | None = Field(default=None, max_length=64)

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_email(value)
        except InvalidRequestParametersError:
            raise ValueError("must be an email address") from None

    @model_validator(mode="after")
    def _phone_or_email(self) -> TestSend:
        if self.phone is None and self.email is None:
            raise ValueError("phone or email is required")
        return self


class OutboxMessageRead(BaseModel):
    id: str
    to: str
    usageType: str
    text: str
    code: str | None
    payload: dict[str, Any]
    sentAt: datetime
    subject: str | None = Field(default=None, description="Emails only.")
    contentType: str | None = Field(default=None, description="Emails only.")


_FORMS: dict[tuple[str, type[Any]], tuple[list[dict[str, Any]], dict[str, Any]]] = {}


def _form(factory: ConnectorFactory[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`formItems` and the JSON schema, computed once per factory."""
    key = (factory.id, factory.config_model)
    found = _FORMS.get(key)
    if found is None:
        local = SERVER_LOCAL_KEYS.get(factory.id, ())  # refused over the API: not in the form
        items = [
            item
            for item in form_items(factory.config_model, factory.sample_config)
            if item["key"] not in local
        ]
        schema = factory.config_model.model_json_schema(by_alias=True)
        found = _FORMS[key] = (items, schema)
    return found


def factory_read(factory: ConnectorFactory[Any]) -> FactoryRead:
    items, schema = _form(factory)
    return FactoryRead(**factory.metadata(), formItems=items, configSchema=schema)


def connector_read(managed: ManagedConnector) -> ConnectorRead:
    metadata = factory_read(managed.factory).model_dump(exclude={"id", "configSchema", "type"})
    return ConnectorRead(
        id=managed.id,
        connectorId=managed.factory.id,
        type=managed.factory.type.value,
        config=managed.config,
        metadata={},
        syncProfile=False,
        enableTokenStorage=False,
        **metadata,
    )


def _check_logto_extras(metadata: dict[str, Any] | None, sync_profile: bool | None) -> None:
    """Logto's rules for the social-only fields, so its scripts get its answers."""
    if metadata:
        raise MetadataNotSupportedError()
    if sync_profile:
        raise SyncProfileNotSupportedError()


@router.get(
    "/connector-factories",
    response_model=list[FactoryRead],
    summary="Installed SMS and email providers",
)
async def list_factories(_tenant: ManagedTenantDep, request: Request) -> list[FactoryRead]:
    services = services_of(request)
    return [factory_read(factory) for factory in services.connectors.factories()]


@router.get(
    "/connector-factories/{factory_id}",
    response_model=FactoryRead,
    summary="One SMS or email provider",
    responses=error_responses(FactoryNotFoundError),
)
async def get_factory(factory_id: str, _tenant: ManagedTenantDep, request: Request) -> FactoryRead:
    services = services_of(request)
    return factory_read(services.connectors.factory(factory_id))


@router.get("/connectors", response_model=list[ConnectorRead], summary="Saved connectors")
async def list_connectors(
    tenant: ManagedTenantDep,
    request: Request,
    target: Annotated[str | None, Query(max_length=128)] = None,
) -> list[ConnectorRead]:
    services = services_of(request)
    found = await services.connectors.list(tenant.id, target=target)
    return [connector_read(managed) for managed in found]


@router.post(
    "/connectors",
    response_model=ConnectorRead,
    summary="Save a connector; it replaces the tenant's connector of its type (SMS or Email)",
    responses=error_responses(
        InvalidConfigError,
        UnknownFactoryError,
        DevelopmentOnlyError,
        ConnectorConflictError,
        MetadataNotSupportedError,
        SyncProfileNotSupportedError,
    ),
)
async def create_connector(
    tenant: ManagedTenantDep, request: Request, body: ConnectorCreate
) -> ConnectorRead:
    services = services_of(request)
    _check_logto_extras(body.metadata, body.syncProfile)
    created = await services.connectors.create(
        tenant, body.connectorId, body.config, connector_id=body.id
    )
    return connector_read(created)


@router.get(
    "/connectors/{connector_id}",
    response_model=ConnectorRead,
    summary="One saved connector",
    responses=error_responses(ConnectorNotFoundError),
)
async def get_connector(
    connector_id: str, tenant: ManagedTenantDep, request: Request
) -> ConnectorRead:
    services = services_of(request)
    return connector_read(await services.connectors.get(tenant.id, connector_id))


@router.patch(
    "/connectors/{connector_id}",
    response_model=ConnectorRead,
    summary="Replace the config; `**********` keeps a stored secret",
    responses=error_responses(
        ConnectorNotFoundError,
        InvalidConfigError,
        DevelopmentOnlyError,
        MetadataNotSupportedError,
        SyncProfileNotSupportedError,
    ),
)
async def update_connector(
    connector_id: str, tenant: ManagedTenantDep, request: Request, body: ConnectorUpdate
) -> ConnectorRead:
    services = services_of(request)
    _check_logto_extras(body.metadata, body.syncProfile)
    if body.config is None:
        return connector_read(await services.connectors.get(tenant.id, connector_id))
    updated = await services.connectors.update(tenant, connector_id, body.config)
    return connector_read(updated)


@router.delete(
    "/connectors/{connector_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a saved connector, as Logto does, even while the sign-in experience needs it",
    description="Like Logto, the delete does not check the sign-in experience: phone sign-in then "
    "answers `connector.not_found` (501) until a new SMS connector is saved. "
    "`?ifUnused=true` refuses instead (409 `connector.in_use_by_sign_in_experience`, "
    "`details.dependents` naming each setting that needs the connector).",
    responses=error_responses(ConnectorNotFoundError, ConnectorInUseError),
)
async def delete_connector(
    connector_id: str,
    tenant: ManagedTenantDep,
    request: Request,
    if_unused: Annotated[
        bool,
        Query(
            alias="ifUnused",
            description="Refuse (409) while phone sign-up, sign-in, password reset or MFA "
            "needs this connector.",
        ),
    ] = False,
    force: Annotated[
        bool,
        Query(
            description="Accepted for older scripts; deleting is the default now.", deprecated=True
        ),
    ] = False,
) -> Response:
    services = services_of(request)
    await connector_removal.delete_connector(
        services.connectors,
        services.sign_in_experience,
        tenant.id,
        connector_id,
        if_unused=if_unused and not force,
    )
    return Response(status_code=204)


@router.post(
    "/connectors/{factory_id}/test",
    status_code=204,
    response_class=Response,
    summary="Send code 000000 (Generic template) through an unsaved config",
    responses=error_responses(
        ConnectorNotFoundError, UnexpectedTypeError, DevelopmentOnlyError, *SEND_ERRORS
    ),
)
async def test_connector(
    factory_id: str, tenant: ManagedTenantDep, request: Request, body: TestSend
) -> Response:
    services = services_of(request)
    await services.connectors.test(
        tenant, factory_id, body.phone, body.config, locale=body.locale, email=body.email
    )
    return Response(status_code=204)


@router.get(
    "/outbox",
    response_model=list[OutboxMessageRead],
    summary="Messages (SMS and emails) the development outbox kept, codes included, newest first",
    responses=error_responses(OutboxForbiddenError, InvalidRequestParametersError),
)
async def read_outbox(
    tenant: ManagedTenantDep,
    request: Request,
    phone: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    email: Annotated[str | None, Query(min_length=3, max_length=320)] = None,
) -> list[OutboxMessageRead]:
    services = services_of(request)
    return _outbox(tenant, services, phone, email)


class OutboxSearch(BaseModel):
    """`GET /outbox?phone=` as a body: the number stays out of URLs and access logs."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, min_length=1, max_length=32)
    email: str | None = Field(default=None, min_length=3, max_length=320)


@router.post(
    "/outbox/search",
    response_model=list[OutboxMessageRead],
    summary="`GET /outbox` with the number in the body, so it is not in the URL",
    responses=error_responses(OutboxForbiddenError, InvalidRequestParametersError),
)
async def search_outbox(
    tenant: ManagedTenantDep, request: Request, body: OutboxSearch
) -> list[OutboxMessageRead]:
    services = services_of(request)
    return _outbox(tenant, services, body.phone, body.email)


def _outbox(
    tenant: Tenant, services: Services, phone: str | None, email: str | None = None
) -> list[OutboxMessageRead]:
    return [
        OutboxMessageRead(
            id=message.id,
            to=message.to,
            usageType=message.usage_type,
            text=message.text,
            code=message.code,
            payload=message.payload,
            sentAt=message.sent_at,
            subject=message.subject,
            contentType=message.content_type,
        )
        for message in services.connectors.outbox_messages(tenant, phone, email=email)
    ]
