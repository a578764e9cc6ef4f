"""Logto's Management API user changes: create, update, password, verify, suspend."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from phoneauth.domain.emails import InvalidEmailError
from phoneauth.domain.experience_errors import InvalidCredentialsError
from phoneauth.domain.phone_numbers import InvalidPhoneNumberError
from phoneauth.domain.user_admin import UserFields
from phoneauth.domain.users import (
    EmailInUseError,
    PhoneInUseError,
    UsernameInUseError,
    UserNotFoundError,
)
from phoneauth.web.deps import ManagedTenantDep, services_of
from phoneauth.web.errors import error_responses
from phoneauth.web.management.user_views import (
    PasswordBody,
    SuspensionBody,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["users"])

IDENTIFIER_ERRORS = (
    InvalidEmailError,
    InvalidPhoneNumberError,
    UsernameInUseError,
    EmailInUseError,
    PhoneInUseError,
)


@router.post(
    "/users",
    response_model=UserRead,
    summary="Create a user (Logto answers 200 with the user)",
    responses=error_responses(*IDENTIFIER_ERRORS),
)
async def create_user(body: UserCreate, tenant: ManagedTenantDep, request: Request) -> UserRead:
    services = services_of(request)
    fields = UserFields(
        username=body.username,
        primary_email=body.primaryEmail,
        primary_phone=body.primaryPhone,
        password=body.password,
        name=body.name,
        avatar=body.avatar,
        custom_data=body.customData,
        profile=body.profile.stored(),
    )
    return UserRead.of(await services.user_admin.create(tenant.id, fields))


@router.patch(
    "/users/{user_id}",
    response_model=UserRead,
    summary="Change a user: the keys sent are replaced (`customData` and `profile` whole)",
    responses=error_responses(UserNotFoundError, *IDENTIFIER_ERRORS),
)
async def update_user(
    user_id: str, body: UserUpdate, tenant: ManagedTenantDep, request: Request
) -> UserRead:
    services = services_of(request)
    return UserRead.of(await services.user_admin.update(tenant.id, user_id, body.changes()))


@router.patch(
    "/users/{user_id}/password",
    response_model=UserRead,
    summary="Set the user's password (no policy applies to an admin, as in Logto)",
    responses=error_responses(UserNotFoundError),
)
async def set_password(
    user_id: str, body: PasswordBody, tenant: ManagedTenantDep, request: Request
) -> UserRead:
    services = services_of(request)
    return UserRead.of(await services.user_admin.set_password(tenant.id, user_id, body.password))


@router.post(
    "/users/{user_id}/password/verify",
    status_code=204,
    response_class=Response,
    summary="Check a password against the user's: 204, or 422 `session.invalid_credentials`",
    responses=error_responses(UserNotFoundError, InvalidCredentialsError),
)
async def verify_password(
    user_id: str, body: PasswordBody, tenant: ManagedTenantDep, request: Request
) -> Response:
    services = services_of(request)
    await services.user_admin.verify_password(tenant.id, user_id, body.password)
    return Response(status_code=204)


@router.patch(
    "/users/{user_id}/is-suspended",
    response_model=UserRead,
    summary="Suspend a user (their sessions end; sign-in answers 401 `user.suspended`) or not",
    responses=error_responses(UserNotFoundError),
)
async def set_suspended(
    user_id: str, body: SuspensionBody, tenant: ManagedTenantDep, request: Request
) -> UserRead:
    services = services_of(request)
    user = await services.user_admin.set_suspended(tenant.id, user_id, body.isSuspended)
    return UserRead.of(user)
