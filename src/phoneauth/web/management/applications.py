"""Applications over the Management API (Logto's `/api/applications` routes): create, list,
read, change and delete the clients of the OpenID Connect provider.

A Traditional or MachineToMachine application is made with its "Default secret", whose value the
create answer carries once: phoneauth keeps only a hash of it. Secrets and roles are in
`application_secrets` and `roles`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from phoneauth.domain.applications import (
    Application,
    ApplicationNotFoundError,
    ApplicationType,
    DeviceFlowNativeOnlyError,
    ThirdPartyTypeError,
)
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import InvalidInputError, error_responses
from phoneauth.web.management.application_views import (
    ApplicationCreate,
    ApplicationCreated,
    ApplicationRead,
    ApplicationUpdate,
    RequestedType,
)
from phoneauth.web.management.paging import link_header

router = APIRouter(tags=["applications"])


class SamlApplicationError(PhoneauthError):
    """phoneauth has no SAML applications (Logto makes them with its `/saml-applications`
    API, which phoneauth does not have)."""

    code = "application.saml.use_saml_app_api"
    status = 400


class ProtectedAppMetadataRequiredError(PhoneauthError):
    """Protected app metadata is required."""

    code = "application.protected_app_metadata_is_required"
    status = 400


class ProtectedAppNotConfiguredError(PhoneauthError):
    """Protected apps are not available: phoneauth has no protected app provider (in Logto they
    belong to Logto Cloud)."""

    code = "application.protected_app_not_configured"
    status = 400


_MADE_HERE = frozenset(t.value for t in ApplicationType)
_TYPE_ERRORS = (SamlApplicationError, ProtectedAppMetadataRequiredError)
_CHANGE_ERRORS = (ThirdPartyTypeError, DeviceFlowNativeOnlyError)


def _supported(kind: RequestedType, body: ApplicationCreate) -> ApplicationType:
    if kind == "SAML":
        raise SamlApplicationError()
    if kind == "Protected":
        if body.protectedAppMetadata is None:
            raise ProtectedAppMetadataRequiredError()
        raise ProtectedAppNotConfiguredError()
    return ApplicationType(kind)


@router.post(
    "/applications",
    response_model=ApplicationCreated,
    summary="Create an application; a confidential one's secret is in the answer, once",
    description=(
        "Types `Native` and `SPA` are public clients (PKCE, no secret); `Traditional` and "
        '`MachineToMachine` get a secret named "Default secret", returned here as `secret` '
        "and never again: phoneauth stores only its SHA-256 hash. `Protected` and `SAML` "
        "applications are not available."
    ),
    responses=error_responses(*_TYPE_ERRORS, ProtectedAppNotConfiguredError, *_CHANGE_ERRORS),
)
async def create_application(
    tenant: ManagedTenantDep, request: Request, body: ApplicationCreate
) -> ApplicationCreated:
    services = services_of(request)
    application = Application(
        tenant_id=tenant.id,
        id=new_id(),
        name=body.name,
        type=_supported(body.type, body),
        created_at=services.applications.clock(),
        description=body.description,
        redirect_uris=tuple(body.oidcClientMetadata.redirectUris),
        post_logout_redirect_uris=tuple(body.oidcClientMetadata.postLogoutRedirectUris),
        custom_client_metadata=body.customClientMetadata.stored(),
        custom_data=body.customData,
        is_third_party=body.isThirdParty,
    )
    created = await services.applications.create(application)
    read = ApplicationRead.of(created.application)
    return ApplicationCreated(**read.model_dump(), secret=created.secret)


@router.get(
    "/applications",
    response_model=list[ApplicationRead],
    summary="Applications, newest first; the total is in the `Total-Number` header",
    description=(
        "Without `page` and `page_size`, every application (Logto's optional paging); with "
        "either, one page and a `Link` header. `types` (repeatable) keeps those types."
    ),
)
async def list_applications(
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    types: Annotated[list[RequestedType] | None, Query(max_length=6)] = None,
    page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    page_size: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> list[ApplicationRead]:
    services = services_of(request)
    wanted = [ApplicationType(t) for t in types or () if t in _MADE_HERE]
    if types and not wanted:  # only Protected or SAML: phoneauth has none
        response.headers["Total-Number"] = "0"
        return []
    paged = page is not None or page_size is not None
    number, size = page or 1, page_size or 20
    found = await services.applications.list_applications(
        tenant.id,
        wanted,
        offset=(number - 1) * size if paged else 0,
        limit=size if paged else None,
    )
    response.headers["Total-Number"] = str(found.total)
    if paged:
        response.headers["Link"] = link_header(request.url, number, size, found.total)
    return [ApplicationRead.of(application) for application in found.items]


@router.get(
    "/applications/{application_id}",
    response_model=ApplicationRead,
    summary="One application (never a secret)",
    responses=error_responses(ApplicationNotFoundError),
)
async def get_application(
    application_id: str, tenant: ManagedTenantDep, request: Request
) -> ApplicationRead:
    services = services_of(request)
    return ApplicationRead.of(await services.applications.get(tenant.id, application_id))


def _changes(body: ApplicationUpdate, current: Application) -> dict[str, Any]:
    """The domain fields the body names; null clears `description`, `customData` and
    `customClientMetadata`, and is refused for the name and the redirect URIs."""
    sent = body.model_fields_set
    problems = [
        {"field": key, "message": "must not be null"}
        for key in ("name", "oidcClientMetadata", "type")
        if key in sent and getattr(body, key) is None
    ]
    if body.type is not None and body.type != current.type.value:
        problems.append({"field": "type", "message": "the type of an application cannot change"})
    if problems:
        raise InvalidInputError("The request is invalid.", errors=problems)
    changes: dict[str, Any] = {}
    if "name" in sent:
        changes["name"] = body.name
    if "description" in sent:
        changes["description"] = body.description
    if body.oidcClientMetadata is not None:
        changes["redirect_uris"] = tuple(body.oidcClientMetadata.redirectUris)
        changes["post_logout_redirect_uris"] = tuple(body.oidcClientMetadata.postLogoutRedirectUris)
    if "customClientMetadata" in sent:
        metadata = body.customClientMetadata
        changes["custom_client_metadata"] = {} if metadata is None else metadata.stored()
    if "customData" in sent:
        changes["custom_data"] = body.customData or {}
    return changes


@router.patch(
    "/applications/{application_id}",
    response_model=ApplicationRead,
    summary="Change an application's name, description, redirect URIs or metadata",
    description="The keys sent replace the stored ones; the type never changes.",
    responses=error_responses(ApplicationNotFoundError, *_CHANGE_ERRORS),
)
async def update_application(
    application_id: str, tenant: ManagedTenantDep, request: Request, body: ApplicationUpdate
) -> ApplicationRead:
    services = services_of(request)
    current = await services.applications.get(tenant.id, application_id)
    changes = _changes(body, current)
    if not changes:
        return ApplicationRead.of(current)
    updated = await services.applications.update(tenant.id, application_id, **changes)
    return ApplicationRead.of(updated)


@router.delete(
    "/applications/{application_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an application with its secrets, roles, codes and refresh tokens",
    responses=error_responses(ApplicationNotFoundError),
)
async def delete_application(
    application_id: str, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    await services.applications.delete(tenant.id, application_id)
    return Response(status_code=204)
