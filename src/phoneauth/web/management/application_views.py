"""The shapes of Logto's Management API applications (`Applications.guard`), their secrets and
roles, with Logto's request rules; times are milliseconds since the epoch."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from phoneauth.domain.applications import Application, Role, StoredSecret
from phoneauth.domain.redirect_uris import MAX_LENGTH, redirect_uri_problem
from phoneauth.web.management.user_views import StorableBody

MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last moment datetime knows
MAX_URIS = 100
STRICT = ConfigDict(extra="ignore", strict=True)
"""JSON as sent: `0` is no boolean and `"1"` no number, as the OpenAPI document says."""

RequestedType = Literal["Native", "SPA", "Traditional", "MachineToMachine", "Protected", "SAML"]
"""Logto's application types. phoneauth makes the first four; `Protected` and `SAML` are
refused with Logto's codes."""


def _checked_uri(uri: str) -> str:
    problem = redirect_uri_problem(uri)
    if problem is not None:
        raise ValueError(problem)
    return uri


RedirectUri = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_LENGTH), AfterValidator(_checked_uri)
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Description = Annotated[str, StringConstraints(max_length=2048)]
Ttl = Annotated[int, Field(ge=1, le=2_147_483_647)]


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class OidcClientMetadata(BaseModel):
    """The redirect URIs, matched exactly: an http(s) address, or for a mobile app its own
    reverse-domain scheme (`com.example.app://callback`); no fragments, no wildcards."""

    model_config = STRICT

    redirectUris: list[RedirectUri] = Field(default_factory=list, max_length=MAX_URIS)
    postLogoutRedirectUris: list[RedirectUri] = Field(default_factory=list, max_length=MAX_URIS)


class CustomClientMetadata(BaseModel):
    """Logto's `customClientMetadata`; phoneauth keeps what is sent, other keys are dropped."""

    model_config = STRICT

    corsAllowedOrigins: list[Annotated[str, StringConstraints(max_length=2048)]] | None = None
    idTokenTtl: Ttl | None = None
    refreshTokenTtl: Ttl | None = None
    refreshTokenTtlInDays: Annotated[int, Field(ge=1, le=180)] | None = None
    alwaysIssueRefreshToken: bool | None = None
    rotateRefreshToken: bool | None = None
    allowTokenExchange: bool | None = None
    isDeviceFlow: bool | None = Field(default=None, description="Native applications only.")
    maxAllowedGrants: Annotated[int, Field(ge=1, le=10_000)] | None = None

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ProtectedAppMetadata(BaseModel):
    model_config = STRICT

    subDomain: str
    origin: str


class ApplicationCreate(StorableBody):
    """`POST /api/applications`."""

    model_config = STRICT

    name: Name
    type: RequestedType
    description: Description | None = None
    oidcClientMetadata: OidcClientMetadata = Field(default_factory=OidcClientMetadata)
    customClientMetadata: CustomClientMetadata = Field(default_factory=CustomClientMetadata)
    protectedAppMetadata: ProtectedAppMetadata | None = None
    customData: dict[str, Any] = Field(default_factory=dict)
    isThirdParty: bool = False


class ApplicationUpdate(StorableBody):
    """`PATCH /api/applications/{id}`: the keys sent replace the stored ones (Logto's
    `replace` mode). The type cannot change: sending another one is refused."""

    model_config = STRICT

    name: Name | None = None
    description: Description | None = None
    oidcClientMetadata: OidcClientMetadata | None = None
    customClientMetadata: CustomClientMetadata | None = None
    customData: dict[str, Any] | None = None
    type: RequestedType | None = Field(default=None, description="Only the current type.")


class OidcClientMetadataRead(BaseModel):
    redirectUris: list[str]
    postLogoutRedirectUris: list[str]


class ApplicationRead(BaseModel):
    """Logto's application object. `protectedAppMetadata` is always null (phoneauth has no
    protected apps); no secret is ever in it."""

    tenantId: str
    id: str
    name: str
    description: str | None
    type: str
    oidcClientMetadata: OidcClientMetadataRead
    customClientMetadata: dict[str, Any]
    protectedAppMetadata: None = None
    customData: dict[str, Any]
    isThirdParty: bool
    appLevelAccessControlEnabled: bool = False
    createdAt: int = Field(description="Milliseconds since the epoch.")

    @classmethod
    def of(cls, application: Application) -> ApplicationRead:
        return cls(
            tenantId=application.tenant_id,
            id=application.id,
            name=application.name,
            description=application.description,
            type=application.type.value,
            oidcClientMetadata=OidcClientMetadataRead(
                redirectUris=list(application.redirect_uris),
                postLogoutRedirectUris=list(application.post_logout_redirect_uris),
            ),
            customClientMetadata=application.custom_client_metadata,
            customData=application.custom_data,
            isThirdParty=application.is_third_party,
            createdAt=epoch_ms(application.created_at),
        )


class ApplicationCreated(ApplicationRead):
    secret: str | None = Field(
        description='The value of the "Default secret" of a Traditional or MachineToMachine '
        "application, shown this once: phoneauth keeps only its hash. Null for Native and SPA "
        "applications, which have no secret."
    )


class SecretCreate(StorableBody):
    model_config = STRICT

    name: Name
    expiresAt: Annotated[int, Field(ge=0, le=MAX_EPOCH_MS)] | None = Field(
        default=None,
        description="Milliseconds since the epoch, in the future; never expires when omitted.",
    )


class SecretRead(BaseModel):
    """Logto's application secret without its value: phoneauth keeps only a hash, so `value`
    is always null here; `preview` is its first four characters, to tell secrets apart."""

    tenantId: str
    applicationId: str
    name: str
    value: str | None = None
    preview: str = Field(examples=["Xq3v…"])
    createdAt: int
    expiresAt: int | None

    @classmethod
    def of(cls, tenant_id: str, application_id: str, secret: StoredSecret) -> SecretRead:
        return cls(
            tenantId=tenant_id,
            applicationId=application_id,
            name=secret.name,
            preview=secret.preview + "…",
            createdAt=epoch_ms(secret.created_at),
            expiresAt=None if secret.expires_at is None else epoch_ms(secret.expires_at),
        )


class SecretCreated(SecretRead):
    value: str | None = Field(description="The secret, shown this once; only its hash is kept.")


class RoleRead(BaseModel):
    """Logto's role object."""

    tenantId: str
    id: str
    name: str
    description: str
    type: str
    isDefault: bool

    @classmethod
    def of(cls, tenant_id: str, role: Role) -> RoleRead:
        return cls(
            tenantId=tenant_id,
            id=role.id,
            name=role.name,
            description=role.description,
            type=role.type,
            isDefault=role.is_default,
        )


RoleId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class RoleAssignment(StorableBody):
    model_config = STRICT

    roleIds: list[RoleId] = Field(max_length=100, examples=[["management-api-access"]])


class RolesAssigned(BaseModel):
    roleIds: list[str] = Field(description="The role ids sent.")
    addedRoleIds: list[str] = Field(description="Those the application did not hold before.")
