"""Connector management: saved connectors, "change connector", test send and the dev outbox.

Logto's rules (reference/logto.md §3): one SMS connector per tenant, and creating one replaces the
old one in a single transaction; the config is validated against the factory's model on create
and update; the test endpoint sends `000000` with the Generic template through the unsaved
config. Ours on top: secrets are encrypted at rest and answered as `**********`, and a client
may send that mask back to keep the stored secret; an endpoint on a literal loopback or private
address is refused unless the operator allows private hosts (the shared HTTP client checks the
resolved address again on every send).
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import httpx

from phoneauth.connectors import (
    Connector,
    ConnectorError,
    ConnectorFactory,
    ConnectorFactoryNotFoundError,
    ConnectorRegistry,
    ConnectorType,
    EmailConnector,
    EmailMessage,
    InvalidConfigError,
    SendResult,
    SmsMessage,
    UsageType,
    dump_config,
    mask_phone,
    secret_fields,
    to_e164,
)
from phoneauth.connectors.base import mask_email, normalize_email
from phoneauth.connectors.config import get_path, set_path
from phoneauth.connectors.errors import UnexpectedTypeError
from phoneauth.connectors.http import utc_now
from phoneauth.connectors.providers.outbox import FACTORY as OUTBOX_FACTORY
from phoneauth.connectors.providers.outbox import Outbox, OutboxMessage
from phoneauth.connectors.providers.outbox_email import FACTORY as EMAIL_OUTBOX_FACTORY
from phoneauth.connectors.providers.smtp import FACTORY as SMTP_FACTORY
from phoneauth.connectors.segments import SmsSize
from phoneauth.crypto import ConfigCipher
from phoneauth.domain.connector_configs import SECRET_MASK, clean_deep, mask_secrets, sends_a_mask
from phoneauth.domain.message_log import MessageLog, MessageLogEntry, MessageStatus, sms_size
from phoneauth.domain.ports import ActiveConnector, ActiveEmailConnector, ReportingConnector
from phoneauth.domain.tenants import Tenant
from phoneauth.errors import PhoneauthError
from phoneauth.ids import new_id

log = logging.getLogger("phoneauth.connectors")

SMS = ConnectorType.SMS.value
EMAIL = ConnectorType.EMAIL.value
"""Logto's `ConnectorType` values; a tenant has one active connector of each."""

TEST_CODE = "000000"
"""Logto's test endpoint code."""

SERVER_LOCAL_KEYS: dict[str, tuple[str, ...]] = {
    OUTBOX_FACTORY.id: ("filePath",),
    EMAIL_OUTBOX_FACTORY.id: ("filePath",),
}
"""Config keys that act on the server's own files: fine for the library and CLI, but a tenant's
admin must not make the service append to any path it can write."""

MASKED_SECRET_PROBLEM = "the mask is not a secret; send the secret itself"
SERVER_FILE_PROBLEM = "names a file on the server; not settable over the API"
"""The API's `details.errors` texts for those two refusals (the console words them itself)."""

DEVELOPMENT_TAG = "development"
"""A factory with this tag (the outbox) is refused by production tenants."""


class ConnectorNotFoundError(PhoneauthError):
    """No connector with this id in this tenant."""

    code = "connector.not_found"
    status = 404


class FactoryNotFoundError(PhoneauthError):
    """No connector factory with this id."""

    code = "entity.not_found"
    status = 404


class UnknownFactoryError(ConnectorFactoryNotFoundError):
    """No installed connector factory has this `connectorId`."""

    status = 422


class DevelopmentOnlyError(PhoneauthError):
    """This connector is for development tenants only; a production tenant cannot use it."""

    code = "connector.development_only"
    status = 422


class OutboxForbiddenError(PhoneauthError):
    """Only development tenants have an outbox."""

    code = "connector.development_only"
    status = 403


class ConnectorConflictError(PhoneauthError):
    """Another change to this tenant's connectors won; try again."""

    code = "connector.conflict"
    status = 409


@dataclass(frozen=True, slots=True)
class StoredConnector:
    """A row of the connectors table; the config stays encrypted until the service needs it."""

    id: str
    tenant_id: str
    type: str
    factory_id: str
    config_encrypted: str
    created_at: datetime
    updated_at: datetime


class ConnectorStore(Protocol):
    """Tenant-scoped storage of saved connectors; every method filters on `tenant_id`."""

    async def list(self, tenant_id: str) -> list[StoredConnector]: ...

    async def get(self, tenant_id: str, connector_id: str) -> StoredConnector | None: ...

    async def get_by_type(self, tenant_id: str, connector_type: str) -> StoredConnector | None: ...

    async def replace(
        self,
        tenant_id: str,
        connector_type: str,
        factory_id: str,
        config_encrypted: str,
        *,
        now: datetime,
        connector_id: str | None = None,
    ) -> StoredConnector:
        """Insert a connector and delete the tenant's other one of this type, atomically.

        Raises `ConnectorConflictError` when a concurrent change cannot be resolved, or when
        `connector_id` is taken by a connector that this call would not replace.
        """
        ...

    async def update_config(
        self,
        tenant_id: str,
        connector_id: str,
        factory_id: str,
        config_encrypted: str,
        *,
        now: datetime,
    ) -> StoredConnector | None:
        """Replace the config of the connector with this id and factory; `None` if it is gone."""
        ...

    async def delete(self, tenant_id: str, connector_id: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class ManagedConnector:
    """A saved connector as the Management API shows it: secrets masked."""

    id: str
    type: str
    factory: ConnectorFactory[Any]
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ConnectorManagement:
    """The tenant's connectors over a store; also the codes engine's `SmsConnectorSource`."""

    def __init__(
        self,
        store: ConnectorStore,
        registry: ConnectorRegistry,
        client: httpx.AsyncClient,
        cipher: ConfigCipher,
        *,
        clock: Callable[[], datetime] = utc_now,
        outbox_size: int = 1000,
        built_cache_size: int = 1024,
        allow_private_hosts: bool = False,
        message_log: MessageLog | None = None,
    ) -> None:
        self.store = store
        self.message_log = message_log
        self.registry = registry
        self.client = client
        self.cipher = cipher
        self.clock = clock
        self.allow_private_hosts = allow_private_hosts
        self._outbox_size = outbox_size
        self._outboxes: dict[str, Outbox] = {}
        # Built connectors by (tenant, row, ciphertext): the store is still read on every send,
        # so a change is seen at once; only decryption and validation are saved.
        self._built: dict[tuple[str, str, str], Connector | EmailConnector] = {}
        self._built_cache_size = built_cache_size

    # --- factories ---------------------------------------------------------------------------

    def factories(self) -> list[ConnectorFactory[Any]]:
        return list(self.registry)

    def factory(self, factory_id: str) -> ConnectorFactory[Any]:
        if factory_id not in self.registry:
            raise FactoryNotFoundError(f"No connector factory with id {factory_id!r}.")
        return self.registry.get(factory_id)

    # --- saved connectors --------------------------------------------------------------------

    async def list(self, tenant_id: str, *, target: str | None = None) -> list[ManagedConnector]:
        """The tenant's connectors whose factory is installed (Logto hides the others too)."""
        managed = [
            self._managed(row)
            for row in await self.store.list(tenant_id)
            if row.factory_id in self.registry
        ]
        return [m for m in managed if target is None or m.factory.target == target]

    async def get(self, tenant_id: str, connector_id: str) -> ManagedConnector:
        row = await self.store.get(tenant_id, connector_id)
        if row is None or row.factory_id not in self.registry:
            raise ConnectorNotFoundError(connector_id=connector_id)
        return self._managed(row)

    async def create(
        self,
        tenant: Tenant,
        factory_id: str,
        config: Mapping[str, Any],
        *,
        connector_id: str | None = None,
    ) -> ManagedConnector:
        """Save a connector; it replaces the tenant's connector of its type (SMS or Email) in the
        same transaction, as Logto's `replaceConnectorsByType` does."""
        if factory_id not in self.registry:
            raise UnknownFactoryError(
                f"No connector factory with id {factory_id!r}.", connector_id=factory_id
            )
        factory = self.registry.get(factory_id)
        self._check_allowed(tenant, factory)
        stored = await self._saved_config(tenant.id, factory, config)
        encrypted = self._encrypt(self._validate(factory, config, stored))
        row = await self.store.replace(
            tenant.id,
            factory.type.value,
            factory.id,
            encrypted,
            now=self.clock(),
            connector_id=connector_id,
        )
        self._forget_built(tenant.id)
        return self._managed(row)

    async def check(self, tenant: Tenant, factory_id: str, config: Mapping[str, Any]) -> None:
        """What `create` checks, saving nothing: a tenant import's dry run."""
        if factory_id not in self.registry:
            raise UnknownFactoryError(
                f"No connector factory with id {factory_id!r}.", connector_id=factory_id
            )
        factory = self.registry.get(factory_id)
        self._check_allowed(tenant, factory)
        self._validate(factory, config, await self._saved_config(tenant.id, factory, config))

    async def saved_config(
        self, tenant_id: str, *, reveal_secrets: bool, connector_type: str = SMS
    ) -> tuple[str, dict[str, Any]] | None:
        """The factory id and config of the tenant's connector of this type, secrets masked
        unless `reveal_secrets` (an operator's export that opts in); `None` without one."""
        row = await self.store.get_by_type(tenant_id, connector_type)
        if row is None or row.factory_id not in self.registry:
            return None
        config = self._decrypt(row)
        if not reveal_secrets:
            config = mask_secrets(self.registry.get(row.factory_id).config_model, config)
        return row.factory_id, config

    async def update(
        self, tenant: Tenant, connector_id: str, config: Mapping[str, Any]
    ) -> ManagedConnector:
        """Replace the config (as Logto does); a masked secret keeps the stored one."""
        row = await self.store.get(tenant.id, connector_id)
        if row is None or row.factory_id not in self.registry:
            raise ConnectorNotFoundError(connector_id=connector_id)
        factory = self.registry.get(row.factory_id)
        self._check_allowed(tenant, factory)
        stored = self._decrypt(row) if sends_a_mask(factory, config) else None
        encrypted = self._encrypt(self._validate(factory, config, stored))
        updated = await self.store.update_config(
            tenant.id, connector_id, factory.id, encrypted, now=self.clock()
        )
        if updated is None:  # deleted or replaced meanwhile
            raise ConnectorNotFoundError(connector_id=connector_id)
        self._forget_built(tenant.id)
        return self._managed(updated)

    async def delete(self, tenant_id: str, connector_id: str) -> None:
        if not await self.store.delete(tenant_id, connector_id):
            raise ConnectorNotFoundError(connector_id=connector_id)
        self._forget_built(tenant_id)

    # --- sending -----------------------------------------------------------------------------

    async def test(
        self,
        tenant: Tenant,
        factory_id: str,
        phone: str | None,
        config: Mapping[str, Any],
        *,
        locale: str | None = None,
        email: str | None = None,
    ) -> SendResult:
        """Send `000000` (Generic) through the unsaved config to `phone` (an SMS factory) or
        `email` (an Email factory); save nothing. The other type is `connector.unexpected_type`,
        as in Logto."""
        expected = SMS if phone is not None else EMAIL
        if factory_id not in self.registry:
            raise ConnectorNotFoundError(
                f"No connector factory with id {factory_id!r}.",
                type=expected,
                factory_id=factory_id,
            )
        factory = self.registry.get(factory_id)
        if factory.type.value != expected:
            raise UnexpectedTypeError(
                f"{factory.name} is an {factory.type.value} connector: give "
                f"`{'phone' if factory.type is ConnectorType.SMS else 'email'}`.",
                type=factory.type.value,
                factory_id=factory.id,
            )
        self._check_allowed(tenant, factory)
        stored = await self._saved_config(tenant.id, factory, config)
        connector = self._build(tenant.id, factory, self._validate(factory, config, stored))
        payload = {"code": TEST_CODE, **({"locale": locale} if locale else {})}
        # An address is checked before anything is sent or logged; the log keeps it masked.
        mail = None
        if phone is None:
            mail = EmailMessage(to=email or "", usage_type=UsageType.GENERIC, payload=payload)
        masked = mask_phone(phone) if phone is not None else mask_email(mail.to if mail else "")
        started = time.perf_counter()
        size = None
        try:
            if mail is None:
                # With the tenant's autofill lines: the test shows the message users will get.
                sms = SmsMessage(
                    to=phone or "",
                    usage_type=UsageType.GENERIC,
                    payload=payload,
                    autofill=tenant.settings.autofill,
                )
                size = sms_size(connector, sms)
                result = await cast(Connector, connector).send(sms)
            else:
                result = await cast(EmailConnector, connector).send(mail)
        except ConnectorError as error:
            await self._log_test(tenant.id, factory, masked, started, error=error, size=size)
            raise
        except Exception as error:
            # A third-party connector broke the contract: a coded error, as the codes engine does.
            log.error("connector %s raised %s on a test send", factory.id, type(error).__name__)
            broken = ConnectorError("The connector failed unexpectedly.", factory_id=factory.id)
            await self._log_test(tenant.id, factory, masked, started, error=broken, size=size)
            raise broken from None
        await self._log_test(tenant.id, factory, masked, started, result=result, size=size)
        return result

    async def _log_test(
        self,
        tenant_id: str,
        factory: ConnectorFactory[Any],
        masked: str,
        started: float,
        *,
        result: SendResult | None = None,
        error: PhoneauthError | None = None,
        size: SmsSize | None = None,
    ) -> None:
        """A test send is logged as a send, marked `test_send`: operators see it went out."""
        if self.message_log is None:
            return
        saved = await self.store.get_by_type(tenant_id, factory.type.value)
        entry = MessageLogEntry(
            id=new_id(),
            tenant_id=tenant_id,
            created_at=self.clock(),
            connector_id=saved.id if saved and saved.factory_id == factory.id else None,
            factory_id=factory.id,
            usage_type=UsageType.GENERIC.value,
            phone_masked=masked,
            status=MessageStatus.SENT if error is None else MessageStatus.FAILED,
            provider_message_id=None if result is None else result.provider_message_id,
            error_code=None if error is None else error.code,
            error_message=None if error is None else error.message,
            latency_ms=round((time.perf_counter() - started) * 1000),
            test_send=True,
            encoding=None if size is None else size.encoding,
            segments=None if size is None else size.segments,
            characters=None if size is None else size.characters,
        )
        try:
            await self.message_log.record(entry)
        except Exception:
            # The test went out (or failed) already; its answer must not change.
            log.exception("could not write the message log for a test send")

    async def active_sms_connector(self, tenant_id: str) -> ActiveConnector | None:
        """The tenant's SMS connector, read from the store on every call (every instance agrees)."""
        found = await self._active(tenant_id, SMS)
        if found is None:
            return None
        row, connector = found
        return ActiveConnector(
            row_id=row.id, factory_id=row.factory_id, connector=cast(Connector, connector)
        )

    async def find(self, tenant_id: str, row_id: str) -> ReportingConnector | None:
        """The tenant's saved SMS connector `row_id` for its delivery reports
        (`ReportingConnectors`); another tenant's id finds nothing."""
        row = await self.store.get(tenant_id, row_id)
        if row is None or row.type != SMS:
            return None
        return self.reporting_sealed(tenant_id, row.id, row.factory_id, row.config_encrypted)

    def reporting_sealed(
        self, tenant_id: str, row_id: str, factory_id: str, config_encrypted: str
    ) -> ReportingConnector | None:
        """What delivery reports need of a connector stored encrypted (saved or standby); None
        when its factory is not installed."""
        if factory_id not in self.registry:
            return None
        factory = self.registry.get(factory_id)
        config = factory.parse_config(self.cipher.decrypt(config_encrypted))
        connector = self._build(tenant_id, factory, config) if factory.polls_delivery else None
        return ReportingConnector(
            row_id, factory_id, config, factory.receipts, cast(Connector | None, connector)
        )

    async def active_email_connector(self, tenant_id: str) -> ActiveEmailConnector | None:
        """The tenant's Email connector, read from the store on every call."""
        found = await self._active(tenant_id, EMAIL)
        if found is None:
            return None
        row, connector = found
        return ActiveEmailConnector(
            row_id=row.id, factory_id=row.factory_id, connector=cast(EmailConnector, connector)
        )

    async def _active(
        self, tenant_id: str, connector_type: str
    ) -> tuple[StoredConnector, Connector | EmailConnector] | None:
        row = await self.store.get_by_type(tenant_id, connector_type)
        if row is None:
            return None
        if row.factory_id not in self.registry:
            log.warning(
                "saved connector %s needs factory %s, which is not installed",
                row.id,
                row.factory_id,
            )
            return None
        key = (tenant_id, row.id, row.config_encrypted)
        connector = self._built.get(key)
        if connector is None:
            factory = self.registry.get(row.factory_id)
            connector = self._build(tenant_id, factory, self._decrypt(row))
            if len(self._built) >= self._built_cache_size:
                del self._built[next(iter(self._built))]
            self._built[key] = connector
        return row, connector

    # --- configs of other saved SMS connectors (delivery routing's standby connectors) ------

    def sealed_config(
        self,
        tenant: Tenant,
        factory_id: str,
        config: Mapping[str, Any],
        stored_encrypted: str | None = None,
    ) -> str:
        """`config` validated and encrypted exactly as `create` does for an SMS connector; a
        masked secret keeps the one in `stored_encrypted` (the same factory's saved config).

        Raises:
            UnknownFactoryError, UnexpectedTypeError (not an SMS factory),
            DevelopmentOnlyError, InvalidConfigError.
        """
        if factory_id not in self.registry:
            raise UnknownFactoryError(
                f"No connector factory with id {factory_id!r}.", connector_id=factory_id
            )
        factory = self.registry.get(factory_id)
        if factory.type is not ConnectorType.SMS:
            raise UnexpectedTypeError(
                f"{factory.name} is not an SMS connector.", type=factory.type.value
            )
        self._check_allowed(tenant, factory)
        stored = None
        if stored_encrypted is not None and sends_a_mask(factory, config):
            stored = self.cipher.decrypt(stored_encrypted)
        return self._encrypt(self._validate(factory, config, stored))

    def shown_config(self, factory_id: str, config_encrypted: str) -> dict[str, Any] | None:
        """A sealed config as the API answers it, secrets masked; None if not installed."""
        if factory_id not in self.registry:
            return None
        config = self.cipher.decrypt(config_encrypted)
        return mask_secrets(self.registry.get(factory_id).config_model, config)

    def build_sealed(
        self, tenant_id: str, row_id: str, factory_id: str, config_encrypted: str
    ) -> Connector | None:
        """The SMS connector a sealed config describes, built once per ciphertext (as the
        active one is); None if its factory is not installed."""
        if factory_id not in self.registry:
            return None
        key = (tenant_id, row_id, config_encrypted)
        connector = self._built.get(key)
        if connector is None:
            factory = self.registry.get(factory_id)
            connector = self._build(tenant_id, factory, self.cipher.decrypt(config_encrypted))
            if len(self._built) >= self._built_cache_size:
                del self._built[next(iter(self._built))]
            self._built[key] = connector
        return cast(Connector, connector)

    # --- the development outbox --------------------------------------------------------------

    def outbox(self, tenant_id: str) -> Outbox:
        """The tenant's outbox (one per tenant and process), created on first use."""
        found = self._outboxes.get(tenant_id)
        if found is None:
            found = self._outboxes[tenant_id] = Outbox(maxlen=self._outbox_size)
        return found

    def outbox_messages(
        self, tenant: Tenant, phone: str | None = None, *, email: str | None = None
    ) -> builtins.list[OutboxMessage]:
        """What the outbox kept for this tenant (SMS and emails), codes included, newest first;
        only those to `phone` or `email` when one is given."""
        if tenant.is_production:
            raise OutboxForbiddenError(tenant_id=tenant.id)
        to = None if phone is None else to_e164(phone)
        if email is not None:
            to = normalize_email(email)
        return list(reversed(self.outbox(tenant.id).messages(to)))

    # --- helpers -----------------------------------------------------------------------------

    async def _saved_config(
        self, tenant_id: str, factory: ConnectorFactory[Any], config: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The tenant's saved config of this factory, read only when the form sends masks back
        ("change connector" and "test" may resend what they read)."""
        if not sends_a_mask(factory, config):
            return None
        current = await self.store.get_by_type(tenant_id, factory.type.value)
        if current is None or current.factory_id != factory.id:
            return None
        return self._decrypt(current)

    def _check_allowed(self, tenant: Tenant, factory: ConnectorFactory[Any]) -> None:
        if tenant.is_production and DEVELOPMENT_TAG in factory.tags:
            raise DevelopmentOnlyError(
                f"{factory.name} is for development tenants only.", connector_id=factory.id
            )

    def _validate(
        self,
        factory: ConnectorFactory[Any],
        config: Mapping[str, Any],
        stored: Mapping[str, Any] | None,
    ) -> Any:
        """The parsed config; masked secrets take the stored value, or are named as invalid."""
        restored = clean_deep(config)
        unrestorable = []
        for key in secret_fields(factory.config_model):
            if get_path(restored, key) == SECRET_MASK:
                kept = None if stored is None else get_path(stored, key)
                if kept not in (None, SECRET_MASK):
                    restored = set_path(restored, key, kept)
                else:
                    unrestorable.append(key)
        problems: list[Any] = []
        parsed = None
        try:
            parsed = factory.parse_config(restored, allow_private_hosts=self.allow_private_hosts)
        except InvalidConfigError as error:
            found = error.details.get("errors")
            problems = list(found) if isinstance(found, list) else []
        problems += [{"field": key, "message": MASKED_SECRET_PROBLEM} for key in unrestorable]
        problems += [
            {"field": key, "message": SERVER_FILE_PROBLEM}
            for key in SERVER_LOCAL_KEYS.get(factory.id, ())
            if restored.get(key) is not None
        ]
        if problems or parsed is None:
            fields = ", ".join(str(problem["field"]) for problem in problems)
            raise InvalidConfigError(
                f"The connector's config is invalid: {fields}.", errors=problems
            )
        return parsed

    def _build(
        self, tenant_id: str, factory: ConnectorFactory[Any], config: Any
    ) -> Connector | EmailConnector:
        options: dict[str, Any] = {}
        if factory.id in (OUTBOX_FACTORY.id, EMAIL_OUTBOX_FACTORY.id):
            options = {"outbox": self.outbox(tenant_id), "clock": self.clock}  # own messages only
        elif factory.id == SMTP_FACTORY.id:  # it connects itself: the same private-host policy
            options = {"allow_private_hosts": self.allow_private_hosts}
        if factory.type is ConnectorType.EMAIL:
            return factory.build_email(config, self.client, **options)
        return factory.build(config, self.client, **options)

    def _encrypt(self, config: Any) -> str:
        return self.cipher.encrypt(dump_config(config, reveal_secrets=True))

    def _decrypt(self, row: StoredConnector) -> dict[str, Any]:
        return self.cipher.decrypt(row.config_encrypted)

    def _managed(self, row: StoredConnector) -> ManagedConnector:
        factory = self.registry.get(row.factory_id)
        config = mask_secrets(factory.config_model, self._decrypt(row))
        return ManagedConnector(
            id=row.id,
            type=row.type,
            factory=factory,
            config=config,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    def _forget_built(self, tenant_id: str) -> None:
        for key in [key for key in self._built if key[0] == tenant_id]:
            del self._built[key]
