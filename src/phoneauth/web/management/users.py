"""End users over the Management API (Logto's `admin-user` routes): list and search, read,
delete, has-password. Changes are in `user_changes`; never a password hash in an answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.domain.user_search import InvalidSearchError, parse_user_search
from phoneauth.domain.users import UserNotFoundError
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.management.paging import link_header
from phoneauth.web.management.user_views import HasPassword, UserRead

router = APIRouter(tags=["users"])

MAX_PAGE_SIZE = 100
SEARCH_HELP = (
    "Logto's search: `search=<v>` (every field) or `search.<field>=<v>` (`id`, `primaryEmail`, "
    "`primaryPhone`, `username`, `name`); `mode` / `mode.<field>` = `like` (default; write the "
    "`%`), `exact`, `similar_to`, `posix`; `joint=or|and`; `isCaseSensitive=true`."
)


@router.get(
    "/users",
    response_model=list[UserRead],
    summary="Users, newest first; the total is in the `Total-Number` header",
    description=SEARCH_HELP,
    responses=error_responses(InvalidPhoneNumberError, InvalidSearchError),
)
async def list_users(
    tenant: ManagedTenantDep,
    request: Request,
    response: Response,
    phone: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Exact number, any format.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> list[UserRead]:
    services = services_of(request)
    if phone is not None:
        found = await services.users.find_by_phone(tenant.id, parse_phone(phone))
        matches = [] if found is None else [found]
        response.headers["Total-Number"] = str(len(matches))
        return [UserRead.of(user) for user in matches[(page - 1) * page_size :][:page_size]]
    search = parse_user_search(request.query_params.multi_items())
    users, total = await services.users.search(
        tenant.id, search, offset=(page - 1) * page_size, limit=page_size
    )
    response.headers["Total-Number"] = str(total)
    response.headers["Link"] = link_header(request.url, page, page_size, total)
    return [UserRead.of(user) for user in users]


@router.get(
    "/users/{user_id}",
    response_model=UserRead,
    summary="One user",
    responses=error_responses(UserNotFoundError),
)
async def get_user(user_id: str, tenant: ManagedTenantDep, request: Request) -> UserRead:
    services = services_of(request)
    return UserRead.of(await services.user_admin.get(tenant.id, user_id))


@router.get(
    "/users/{user_id}/has-password",
    response_model=HasPassword,
    summary="Whether the user has a password",
    responses=error_responses(UserNotFoundError),
)
async def has_password(user_id: str, tenant: ManagedTenantDep, request: Request) -> HasPassword:
    services = services_of(request)
    user = await services.user_admin.get(tenant.id, user_id)
    return HasPassword(hasPassword=user.has_password)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a user with their sessions and memberships",
    responses=error_responses(UserNotFoundError),
)
async def delete_user(user_id: str, tenant: ManagedTenantDep, request: Request) -> Response:
    # The sessions go with the row (ON DELETE CASCADE): the user's cookies and access tokens
    # stop working here at once, since tokens are checked against their session.
    services = services_of(request)
    if not await services.users.delete(tenant.id, user_id):
        raise UserNotFoundError(user_id=user_id)
    return Response(status_code=204)
