"""End users over the Management API: list, find by phone, read, delete; never a password hash."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from phoneauth.domain.phone_numbers import InvalidPhoneNumberError, parse_phone
from phoneauth.domain.users import User, UserNotFoundError
from phoneauth.web.deps import ManagedTenantDep, ServicesDep
from phoneauth.web.errors import error_responses

router = APIRouter(tags=["users"])

MAX_PAGE_SIZE = 100


class UserRead(BaseModel):
    """`User.public()`: Logto's names where Logto has the field."""

    id: str
    primaryPhone: str | None
    username: str | None
    hasPassword: bool
    mfaFactors: list[str]
    createdAt: datetime

    @classmethod
    def of(cls, user: User) -> UserRead:
        return cls.model_validate(user.public())


@router.get(
    "/users",
    response_model=list[UserRead],
    summary="Users, newest first; the total is in the `Total-Number` header",
    responses=error_responses(InvalidPhoneNumberError),
)
async def list_users(
    tenant: ManagedTenantDep,
    services: ServicesDep,
    response: Response,
    phone: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Exact number, any format.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> list[UserRead]:
    if phone is not None:
        found = await services.users.find_by_phone(tenant.id, parse_phone(phone))
        matches = [] if found is None else [found]
        response.headers["Total-Number"] = str(len(matches))
        return [UserRead.of(user) for user in matches[(page - 1) * page_size :][:page_size]]
    users = await services.users.list(tenant.id, offset=(page - 1) * page_size, limit=page_size)
    response.headers["Total-Number"] = str(await services.users.count(tenant.id))
    return [UserRead.of(user) for user in users]


@router.get(
    "/users/{user_id}",
    response_model=UserRead,
    summary="One user",
    responses=error_responses(UserNotFoundError),
)
async def get_user(user_id: str, tenant: ManagedTenantDep, services: ServicesDep) -> UserRead:
    found = await services.users.get(tenant.id, user_id)
    if found is None:
        raise UserNotFoundError(user_id=user_id)
    return UserRead.of(found)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a user with their sessions and memberships",
    responses=error_responses(UserNotFoundError),
)
async def delete_user(user_id: str, tenant: ManagedTenantDep, services: ServicesDep) -> Response:
    # The sessions go with the row (ON DELETE CASCADE): the user's cookies and access tokens
    # stop working here at once, since tokens are checked against their session.
    if not await services.users.delete(tenant.id, user_id):
        raise UserNotFoundError(user_id=user_id)
    return Response(status_code=204)
