"""API resources: the APIs an access token may be issued for (RFC 8707 `resource`, Logto's
API resources). Each tenant also has the built-in Management API resource, read-only, first in
every list; its indicator comes from the settings (`PHONEAUTH_MANAGEMENT_API_RESOURCE`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

MANAGEMENT_API_RESOURCE_ID = "management-api"
MANAGEMENT_API_NAME = "Logto Management API"  # Logto's seed name, which its scripts look for
DEFAULT_ACCESS_TOKEN_TTL = 3600  # Logto's default, in seconds
MIN_ACCESS_TOKEN_TTL = 60
MAX_ACCESS_TOKEN_TTL = 30 * 24 * 3600
"""A JWT access token cannot be revoked at the API that accepts it: a month at most."""
MAX_INDICATOR_LENGTH = 2048
MAX_NAME_LENGTH = 256

# RFC 3986 `scheme ":" hier-part [ "?" query ]`, and RFC 8707: no fragment.
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s#]+")


class ApiResourceNotFoundError(PhoneauthError):
    """No API resource with this id in this tenant."""

    code = "entity.not_exists_with_id"
    status = 404


class IndicatorInUseError(PhoneauthError):
    """The API identifier is already in use in this tenant."""

    code = "resource.resource_identifier_in_use"  # Logto's
    status = 422


class InvalidIndicatorError(PhoneauthError):
    """The API identifier must be an absolute URI without a fragment (RFC 8707)."""

    code = "guard.invalid_input"  # a field of the body, as the web layer's own checks say
    status = 400

    def __init__(self) -> None:
        message = (
            "indicator: an absolute URI without a fragment, at most "
            f"{MAX_INDICATOR_LENGTH} characters (RFC 8707)."
        )
        super().__init__(message, errors=[{"field": "body.indicator", "message": message}])


class CannotModifyManagementApiError(PhoneauthError):
    """The Management API resource is built in and cannot be changed."""

    code = "resource.cannot_modify_management_api"  # Logto's
    status = 400


class CannotDeleteManagementApiError(PhoneauthError):
    """The Management API resource is built in and cannot be deleted."""

    code = "resource.cannot_delete_management_api"  # Logto's
    status = 400


@dataclass(frozen=True, slots=True)
class ApiResource:
    tenant_id: str
    id: str
    name: str
    indicator: str
    access_token_ttl: int
    created_at: datetime | None  # None for the built-in Management API resource
    is_default: bool = False  # Logto's "default resource"; phoneauth has none yet

    @property
    def is_management_api(self) -> bool:
        return self.id == MANAGEMENT_API_RESOURCE_ID


class ApiResourceStore(Protocol):
    async def add(self, resource: ApiResource) -> None:
        """Store it; `IndicatorInUseError` when the tenant has the indicator already."""
        ...

    async def find(self, tenant_id: str, resource_id: str) -> ApiResource | None: ...
    async def find_by_indicator(self, tenant_id: str, indicator: str) -> ApiResource | None: ...
    async def list(self, tenant_id: str) -> list[ApiResource]:
        """Oldest first."""
        ...

    async def update(self, resource: ApiResource) -> bool:
        """Write name and TTL; False when the resource is gone."""
        ...

    async def delete(self, tenant_id: str, resource_id: str) -> bool: ...


def check_indicator(indicator: str) -> str:
    if len(indicator) > MAX_INDICATOR_LENGTH or not _ABSOLUTE_URI.fullmatch(indicator):
        raise InvalidIndicatorError()
    return indicator


class ApiResources:
    """The tenant's API resources; also the provider's `ResourceLookup` (token lifetimes)."""

    def __init__(
        self,
        store: ApiResourceStore,
        management_indicator: Callable[[str], str],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.management_indicator = management_indicator
        self.clock = clock

    def management_api(self, tenant_id: str) -> ApiResource:
        return ApiResource(
            tenant_id=tenant_id,
            id=MANAGEMENT_API_RESOURCE_ID,
            name=MANAGEMENT_API_NAME,
            indicator=self.management_indicator(tenant_id),
            access_token_ttl=DEFAULT_ACCESS_TOKEN_TTL,
            created_at=None,
        )

    async def list(self, tenant_id: str) -> list[ApiResource]:
        return [self.management_api(tenant_id), *await self.store.list(tenant_id)]

    async def get(self, tenant_id: str, resource_id: str) -> ApiResource:
        if resource_id == MANAGEMENT_API_RESOURCE_ID:
            return self.management_api(tenant_id)
        found = await self.store.find(tenant_id, resource_id)
        if found is None:
            raise ApiResourceNotFoundError(id=resource_id)
        return found

    async def create(
        self,
        tenant_id: str,
        *,
        name: str,
        indicator: str,
        access_token_ttl: int = DEFAULT_ACCESS_TOKEN_TTL,
    ) -> ApiResource:
        check_indicator(indicator)
        if indicator == self.management_indicator(tenant_id):
            raise IndicatorInUseError(indicator=indicator)
        resource = ApiResource(
            tenant_id=tenant_id,
            id=new_id(),
            name=name,
            indicator=indicator,
            access_token_ttl=access_token_ttl,
            created_at=self.clock(),
        )
        await self.store.add(resource)
        return resource

    async def update(
        self,
        tenant_id: str,
        resource_id: str,
        *,
        name: str | None = None,
        access_token_ttl: int | None = None,
    ) -> ApiResource:
        """Name and token lifetime; the indicator stays (tokens already issued name it)."""
        if resource_id == MANAGEMENT_API_RESOURCE_ID:
            raise CannotModifyManagementApiError()
        current = await self.get(tenant_id, resource_id)
        changed = replace(
            current,
            name=current.name if name is None else name,
            access_token_ttl=(
                current.access_token_ttl if access_token_ttl is None else access_token_ttl
            ),
        )
        if not await self.store.update(changed):
            raise ApiResourceNotFoundError(id=resource_id)
        return changed

    async def delete(self, tenant_id: str, resource_id: str) -> None:
        if resource_id == MANAGEMENT_API_RESOURCE_ID:
            raise CannotDeleteManagementApiError()
        if not await self.store.delete(tenant_id, resource_id):
            raise ApiResourceNotFoundError(id=resource_id)

    async def access_token_ttl(self, tenant_id: str, indicator: str) -> int | None:
        """The provider's `ResourceLookup`: the lifetime of a token for a registered resource."""
        found = await self.store.find_by_indicator(tenant_id, indicator)
        return None if found is None else found.access_token_ttl
