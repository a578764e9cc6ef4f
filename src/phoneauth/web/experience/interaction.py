"""Start, switch, inspect, identify and submit an interaction (Logto's `/api/experience`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from phoneauth.domain.email_blocklist import EMAIL_BLOCKLIST_ERRORS
from phoneauth.domain.experience_errors import (
    EventForbiddenError,
    ForgotPasswordMethodError,
    ForgotPasswordNotEnabledError,
    IdentifierNotFoundError,
    IdentityConflictError,
    MfaRequiredError,
    MissingMfaError,
    MissingProfileError,
    NewPasswordRequiredError,
    NotSupportedForForgotPasswordError,
    SignInMethodNotEnabledError,
    VerificationFailedError,
    VerificationIdMissingError,
)
from phoneauth.domain.interactions import InteractionEvent, VerificationSessionNotFoundError
from phoneauth.domain.tenants import TenantNotFoundError
from phoneauth.domain.users import EmailInUseError, PhoneInUseError, UserNotFoundError
from phoneauth.web.deps import services_of, tenant_id_of
from phoneauth.web.errors import error_responses
from phoneauth.web.experience.deps import (
    InteractionDep,
    clear_interaction_cookie,
    interaction_id_from_cookie,
    set_interaction_cookie,
    set_session_cookie,
    step_responses,
    tenant_home,
)
from phoneauth.web.oidc_cookie import resume_url, waiting_authorization

router = APIRouter(tags=["experience"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class InteractionStart(_Body):
    interaction_event: InteractionEvent = Field(alias="interactionEvent")
    redirect_to: str | None = Field(
        default=None,
        alias="redirectTo",
        max_length=2048,
        pattern=r"^/([^/\\\s]\S*)?$",
        description="phoneauth's addition: a path on this site to go to after submit.",
        examples=["/welcome"],
    )


class InteractionEventChange(_Body):
    interaction_event: InteractionEvent = Field(alias="interactionEvent")


class Identification(_Body):
    verification_id: str | None = Field(
        default=None, alias="verificationId", min_length=1, max_length=64
    )


class SubmitResult(BaseModel):
    redirect_to: str = Field(alias="redirectTo")
    access_token: str = Field(alias="accessToken", description="ES256 JWT; keys at /oidc/jwks.")
    expires_at: str = Field(alias="expiresAt", description="When the access token expires.")


@router.put(
    "/experience",
    status_code=204,
    summary="Start an interaction (sign-in, registration or password reset)",
    responses=error_responses(TenantNotFoundError, EventForbiddenError),
)
async def start(body: InteractionStart, request: Request) -> Response:
    services = services_of(request)
    tenant_id = tenant_id_of(request)
    interaction = await services.experience.start(
        tenant_id, body.interaction_event, redirect_to=body.redirect_to
    )
    previous = interaction_id_from_cookie(request, services)
    if previous is not None:  # Logto overwrites the old interaction; so do we
        await services.interactions.discard(tenant_id, previous)
    response = Response(status_code=204)
    set_interaction_cookie(response, request, services, interaction)
    return response


@router.put(
    "/experience/interaction-event",
    status_code=204,
    summary="Switch between sign-in and registration",
    responses=step_responses(EventForbiddenError, NotSupportedForForgotPasswordError),
)
async def switch_event(
    body: InteractionEventChange, interaction: InteractionDep, request: Request
) -> Response:
    services = services_of(request)
    await services.experience.switch_event(interaction, body.interaction_event)
    return Response(status_code=204)


@router.get(
    "/experience/interaction",
    summary="The interaction's state, without secrets",
    responses=step_responses(),
)
async def inspect(interaction: InteractionDep) -> dict[str, Any]:
    return interaction.sanitized()


@router.post(
    "/experience/identification",
    status_code=204,
    summary="Identify the user by a verification, or create the account (201) in a registration",
    responses={
        201: {"description": "The account was created."},
        **step_responses(
            VerificationIdMissingError,
            VerificationFailedError,
            EventForbiddenError,
            UserNotFoundError,
            VerificationSessionNotFoundError,
            IdentityConflictError,
            SignInMethodNotEnabledError,
            ForgotPasswordMethodError,
            ForgotPasswordNotEnabledError,
            PhoneInUseError,
            *EMAIL_BLOCKLIST_ERRORS,
            MissingProfileError,
        ),
    },
)
async def identify(body: Identification, interaction: InteractionDep, request: Request) -> Response:
    services = services_of(request)
    created = await services.experience.identify(interaction, body.verification_id)
    return Response(status_code=201 if created else 204)


@router.post(
    "/experience/submit",
    response_model=SubmitResult,
    summary="Finish: a session (cookie and access token), or the new password of a reset (204)",
    responses={
        204: {"description": "The password was reset; sign in with it."},
        **step_responses(
            IdentifierNotFoundError,
            MfaRequiredError,
            MissingProfileError,
            MissingMfaError,
            NewPasswordRequiredError,
            PhoneInUseError,
            EmailInUseError,
        ),
    },
)
async def submit(interaction: InteractionDep, request: Request) -> Response:
    services = services_of(request)
    done = await services.experience.submit(interaction)
    response: Response
    if done.signed_in is None:
        response = Response(status_code=204)
    else:
        # Signing in for an app (`/oidc/auth`): continue its authorization (Logto's answer).
        uid = waiting_authorization(request, services)
        oidc_continue = resume_url(services, interaction.tenant_id, uid) if uid else None
        body = SubmitResult(
            redirectTo=oidc_continue or done.redirect_to or tenant_home(request),
            accessToken=done.signed_in.session.access_token,
            expiresAt=done.signed_in.access_token_expires_at.isoformat(),
        )
        response = JSONResponse(body.model_dump(by_alias=True))
        set_session_cookie(response, request, done.signed_in.session)
    clear_interaction_cookie(response, request)
    return response
