"""Verification codes: issue, send, verify, expire; the rules every phone flow relies on.

A code is 6 random digits, stored only as a keyed hash bound to its tenant, phone number, usage
type and scope. Verification follows Logto's order of checks and codes; each comparison first
claims one of the code's attempts atomically, so no burst of concurrent guesses compares more
often than `maxRetryAttempts`, and success consumes the code atomically: one winner, ever. A new
code replaces the waiting one only once the provider has taken its SMS, so a failed send never
costs the user the code already on their phone.

`VerificationCodes` is the engine every flow calls: it runs a send's steps in order, with
collaborators for the rest: `WaitingCodes` (code_resends: a new code or the waiting one again),
`CodeDelivery` (code_delivery: SMS, email, message log) and `CodeChecks` (code_checks: verify).
The refusals, the stored record and retention live in modules of their own; the names tests
import from here are re-exported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from phoneauth.connectors import ConnectorError, EmailMessage, SmsMessage, UsageType, mask_phone
from phoneauth.domain.background_sends import BackgroundSends
from phoneauth.domain.code_checks import CodeChecks
from phoneauth.domain.code_delivery import CodeDelivery
from phoneauth.domain.code_resends import CodeSealer, WaitingCodes
from phoneauth.domain.code_retention import PruneResult, prune
from phoneauth.domain.code_retention import run_retention as run_retention
from phoneauth.domain.emails import email_key, normalise_email
from phoneauth.domain.message_log import MessageLog
from phoneauth.domain.metrics import NO_METRICS, Metrics
from phoneauth.domain.phone_numbers import LOGTO_PHONE, InvalidPhoneNumberError, parse_phone
from phoneauth.domain.ports import EmailConnectorSource, SmsConnectorSource
from phoneauth.domain.rate_limits import RateLimits
from phoneauth.domain.sealed_recipients import SealedRecipients
from phoneauth.domain.sms_protection import SmsProtection
from phoneauth.domain.sms_router import NoRouting, SmsRouter
from phoneauth.domain.tenants import Tenant, TenantStore
from phoneauth.domain.verification_code_errors import CodeExpiredError as CodeExpiredError
from phoneauth.domain.verification_code_errors import CodeMaxTriesError as CodeMaxTriesError
from phoneauth.domain.verification_code_errors import CodeMismatchError as CodeMismatchError
from phoneauth.domain.verification_code_errors import CodeNotFoundError as CodeNotFoundError
from phoneauth.domain.verification_code_errors import NoEmailConnectorError, NoSmsConnectorError
from phoneauth.domain.verification_code_errors import VerificationCodeError as VerificationCodeError
from phoneauth.domain.verification_code_store import CodeHasher, VerificationCodeStore
from phoneauth.domain.verification_code_store import StoredCode as StoredCode

log = logging.getLogger("phoneauth.codes")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Delivery(Enum):
    """How a send reaches the phone, and whether the answer waits for it."""

    NOW = "now"
    """The answer waits for the provider and reports its failure (the code is stored after)."""
    BACKGROUND = "background"
    """The code is stored, the answer given, the SMS sent after: the answer takes the same time
    as `NONE`, and a provider failure is only logged."""
    NONE = "none"
    """Stored and counted, never sent: Logto's anti-enumeration for numbers without account."""


@dataclass(frozen=True, slots=True)
class CodeSent:
    """What a caller may know after a send: never the code."""

    phone: str
    expires_at: datetime
    provider_message_id: str | None
    connector_id: str | None = None
    """The saved connector that finally took the SMS (active or standby); None if none sent."""


class VerificationCodes:
    """The code engine. `connectors` may be replaced at run time; it is read on every send.

    `sealer` keeps the waiting code encrypted for a resend that sends it again (tenant setting
    `resendKeepsCode`); without one, every send issues a new code."""

    def __init__(
        self,
        *,
        store: VerificationCodeStore,
        message_log: MessageLog,
        rate_limits: RateLimits,
        hash_key: bytes,
        connectors: SmsConnectorSource,
        tenants: TenantStore,
        email_connectors: EmailConnectorSource | None = None,
        clock: Clock = utc_now,
        router: SmsRouter | None = None,
        metrics: Metrics = NO_METRICS,
        public_url: str | None = None,
        sealed_recipients: SealedRecipients | None = None,
        sealer: CodeSealer | None = None,
        protection: SmsProtection | None = None,
    ) -> None:
        self.protection = protection  # the SMS pumping defence; None in library use
        self.store = store
        self.metrics = metrics
        self.email_connectors = email_connectors
        self.rate_limits = rate_limits
        self.connectors = connectors
        self.tenants = tenants
        self.clock = clock
        self.background = BackgroundSends()
        self.deliveries = CodeDelivery(
            message_log=message_log,
            router=router or SmsRouter(NoRouting(), NoRouting()),
            clock=self._now,
            public_url=public_url,
            sealed_recipients=sealed_recipients,
        )
        hasher = CodeHasher(hash_key)  # the key stays in the hasher
        self.waiting_codes = WaitingCodes(
            store=store, rate_limits=rate_limits, hasher=hasher, clock=self._now, sealer=sealer
        )
        self.checks = CodeChecks(
            store=store,
            rate_limits=rate_limits,
            hasher=hasher,
            clock=self._now,
            metrics=metrics,
            protection=protection,
        )

    def _now(self) -> datetime:
        """`clock` read at each call, so a clock set later (tests move time) reaches the
        collaborators too."""
        return self.clock()

    # What `deliveries` holds stays readable and settable here, as before it moved there.
    @property
    def message_log(self) -> MessageLog:
        return self.deliveries.message_log

    @message_log.setter
    def message_log(self, message_log: MessageLog) -> None:
        self.deliveries.message_log = message_log

    @property
    def router(self) -> SmsRouter:
        return self.deliveries.router

    @router.setter
    def router(self, router: SmsRouter) -> None:
        self.deliveries.router = router

    @property
    def public_url(self) -> str | None:
        """PHONEAUTH_PUBLIC_URL: delivery reports come back there."""
        return self.deliveries.public_url

    @public_url.setter
    def public_url(self, public_url: str | None) -> None:
        self.deliveries.public_url = public_url

    @property
    def sealed_recipients(self) -> SealedRecipients | None:
        """The numbers a status query will need."""
        return self.deliveries.sealed_recipients

    @sealed_recipients.setter
    def sealed_recipients(self, sealed_recipients: SealedRecipients | None) -> None:
        self.deliveries.sealed_recipients = sealed_recipients

    async def send(
        self,
        tenant: Tenant,
        phone: str,
        usage_type: UsageType | str,
        *,
        ip: str | None = None,
        locale: str | None = None,
        scope: str = "",
        delivery: Delivery = Delivery.NOW,
        variables: Mapping[str, str] | None = None,
        precheck: Callable[[], None] | None = None,
        resend_of: str | None = None,
        new_scope: bool = False,
    ) -> CodeSent:
        """Issue a new code (replacing the waiting one) and send it through the SMS connector.

        A test phone number (tenant setting `testPhoneNumbers`) gets its fixed code and no SMS,
        and needs no connector.

        `variables` are more template variables (`{"link": ...}` renders `{{link}}`), sent in
        the payload beside the code; they can never replace `code` or `locale`.

        `precheck` raises the caller's own refusals where Logto has none at send time: after
        Logto's checks (rate guard 429, connector lookup 501), before any code exists.

        `delivery` (see `Delivery`): `NOW` stores the code only once the provider has taken
        the SMS, so a refused send leaves the waiting code valid; `BACKGROUND` and `NONE` store
        it first and answer without waiting for any provider.

        The SMS goes through the tenant's delivery routing (`SmsRouter`): without rules, one
        attempt through the active connector; with rules, failover to the next connector on a
        transient failure, within the rules' deadline. `CodeSent.connector_id` names the
        connector that took it (`NOW` only).

        Resend (tenant settings `resendKeepsCode`, `resendCooldownSeconds`): while a code
        waits for this number, use and scope, a send within the cooldown since its last send
        is refused; after it, the same code goes out again (same expiry, same attempts left)
        while it is still good, else a new code replaces it. The send slot is claimed in one
        conditional write after every other check; a send the provider refused gives it back.
        `resend_of` names the scope the waiting code has when the caller gives each send a new
        one (an Experience resend's new record): the same code then moves to `scope`, once sent.
        `new_scope`: the caller made `scope` just now (a new record's random id), so no code can
        wait under it and none is looked up (on PostgreSQL a round trip per send); the one under
        `resend_of`, if given, still is.

        Raises:
            InvalidPhoneNumberError, RateLimitedError (the number locked after wrong codes
                and `ResendTooSoonError` included), the pumping defence's refusals
                (`sms_protection`; never for a test number): before anything is created or
                deleted.
            NoSmsConnectorError: the tenant has no SMS connector (the waiting code stays);
                also for digits that are no valid number (see `recipient`).
            ConnectorError: the provider failed (`NOW` only; after failover, the last
                attempt's error with `details.attempts`); every attempt is in the message log
                and the waiting code stays.
        """
        e164 = await self.recipient(tenant, phone, usage_type)
        usage = UsageType(usage_type)
        waiting = (
            None
            if new_scope and resend_of is None
            else await self.waiting_codes.find(tenant, e164, usage, resend_of or scope)
        )
        await self.rate_limits.acquire_send(tenant, e164, ip)
        # A test phone number gets its fixed code and no SMS; every other rule stays.
        fixed = tenant.settings.fixed_code_for(e164)
        if fixed is None and self.protection is not None:
            # Pumping defence: the same answer whether or not the number has an account;
            # `delivery` only says whether an SMS leaves, for the conversion watch.
            await self.protection.check(tenant, e164, leaves=delivery is not Delivery.NONE)
        active = None if fixed else await self.connectors.active_sms_connector(tenant.id)
        if active is None and fixed is None:
            missing = NoSmsConnectorError()
            await self.deliveries.record(tenant.id, None, usage, e164, error=missing)
            raise missing
        # The routing is looked up with the connector, before any write of this request: its
        # cached lookup then shares the change counter the connector's lookup just read.
        plan = None if active is None else await self.router.plan(tenant.id, active, e164)
        if precheck is not None:
            precheck()
        claim = await self.waiting_codes.claim(tenant, waiting, fixed, scope)
        code, stored = claim.resend or self.waiting_codes.new_code(
            tenant, e164, usage, scope, fixed
        )
        expires_at = stored.expires_at
        store = self.waiting_codes.saver(claim)
        if delivery is Delivery.NONE:
            await store(stored)
            return CodeSent(e164, expires_at, None)
        if plan is None:
            await store(stored)
            await self.deliveries.record(tenant.id, None, usage, e164, test=True, code_id=stored.id)
            log.info("code for test number %s stored; no SMS sent", mask_phone(e164))
            return CodeSent(e164, expires_at, None)
        payload: dict[str, str] = dict(variables or {})
        payload.pop("locale", None)
        payload["code"] = code
        if locale:
            payload["locale"] = locale
        message = SmsMessage(
            to=e164, usage_type=usage, payload=payload, ip=ip, autofill=tenant.settings.autofill
        )
        if delivery is Delivery.BACKGROUND:
            # Stored before the answer (an acknowledged code is a stored code); the SMS after.
            await store(stored)
            self.background.start(self.deliveries.sms_later(tenant.id, plan, message, stored.id))
            return CodeSent(e164, expires_at, None)
        try:
            delivered = await self.deliveries.sms(tenant.id, plan, message, stored.id)
        except ConnectorError:
            await self.waiting_codes.release(tenant, waiting, claim)
            raise
        # Only now does the new code replace the waiting one: a send the provider refused
        # (or that timed out) must not cost the user the code already on their phone. One
        # upsert, after the SMS and before the answer: concurrent sends still leave exactly
        # one waiting code (the last stored), and nothing is acknowledged before it is stored.
        # A resend of the same code has nothing to store: its claim recorded the send.
        await store(stored)
        return CodeSent(
            e164, expires_at, delivered.result.provider_message_id, delivered.connector.row_id
        )

    async def send_email(
        self,
        tenant: Tenant,
        address: str,
        usage_type: UsageType | str,
        *,
        ip: str | None = None,
        locale: str | None = None,
        scope: str = "",
        delivery: Delivery = Delivery.NOW,
        precheck: Callable[[], None] | None = None,
        resend_of: str | None = None,
        new_scope: bool = False,
    ) -> CodeSent:
        """`send` for an email address, through the tenant's Email connector.

        The same rules as by SMS: one waiting code per address (compared without regard to
        case, as Logto compares addresses), use and scope; the code hashed; the per-recipient
        and per-IP budgets (no per-country one: an address has no country). `CodeSent.phone`
        is the address as normalised. `new_scope` as for `send`.

        Raises:
            InvalidEmailError (400 `guard.invalid_input`), RateLimitedError: before anything
                is created or deleted.
            NoEmailConnectorError: the tenant has no Email connector (the waiting code stays).
            ConnectorError: the provider failed (`NOW` only); the waiting code stays.
        """
        normalised = normalise_email(address)
        key = email_key(normalised)
        usage = UsageType(usage_type)
        waiting = (
            None
            if new_scope and resend_of is None
            else await self.waiting_codes.find(tenant, key, usage, resend_of or scope)
        )
        await self.rate_limits.acquire_send(tenant, key, ip, by_country=False)
        source = self.email_connectors
        if source is None and isinstance(self.connectors, EmailConnectorSource):
            source = self.connectors
        active = None if source is None else await source.active_email_connector(tenant.id)
        if active is None:
            missing = NoEmailConnectorError()
            await self.deliveries.record(tenant.id, None, usage, key, error=missing)
            raise missing
        if precheck is not None:
            precheck()
        claim = await self.waiting_codes.claim(tenant, waiting, None, scope)
        code, stored = claim.resend or self.waiting_codes.new_code(tenant, key, usage, scope)
        expires_at = stored.expires_at
        store = self.waiting_codes.saver(claim)
        if delivery is Delivery.NONE:
            await store(stored)
            return CodeSent(normalised, expires_at, None)
        payload = {"code": code, **({"locale": locale} if locale else {})}
        message = EmailMessage(to=normalised, usage_type=usage, payload=payload, ip=ip)
        if delivery is Delivery.BACKGROUND:
            await store(stored)
            self.background.start(self.deliveries.email_later(tenant.id, active, message))
            return CodeSent(normalised, expires_at, None)
        try:
            result = await self.deliveries.email(tenant.id, active, message)
        except ConnectorError:
            await self.waiting_codes.release(tenant, waiting, claim)
            raise
        # Stored only once the provider took the email, as for an SMS (see `send`).
        await store(stored)
        return CodeSent(normalised, expires_at, result.provider_message_id)

    async def recipient(
        self, tenant: Tenant, raw: str, usage_type: UsageType | str = UsageType.GENERIC
    ) -> str:
        """The number a code goes to, in E.164, with Logto's order of checks.

        Logto's guard only wants digits, and its connector lookup comes before any provider
        could refuse the number: on a tenant without an SMS connector, digits that are no valid
        number answer 501 `connector.not_found` (reference/logto-parity.md 4), not 400. The
        refused send is in the message log under `usage_type`.

        Raises:
            InvalidPhoneNumberError: not a number, or no valid number while a connector exists.
            NoSmsConnectorError: digits that are no valid number, and no SMS connector.
        """
        try:
            return parse_phone(raw)
        except InvalidPhoneNumberError:
            if not LOGTO_PHONE.fullmatch(raw.strip()):
                raise
            if await self.connectors.active_sms_connector(tenant.id) is not None:
                raise
        missing = NoSmsConnectorError()
        await self.deliveries.record(
            tenant.id, None, UsageType(usage_type), raw.strip(), error=missing
        )
        raise missing

    async def verify(
        self,
        tenant: Tenant,
        phone: str,
        usage_type: UsageType | str,
        code: str,
        *,
        scope: str = "",
        ip: str | None = None,
        claimed: str | None = None,
    ) -> None:
        """Accept the code once, or raise: `CodeChecks.verify`."""
        await self.checks.verify(
            tenant, phone, usage_type, code, scope=scope, ip=ip, claimed=claimed
        )

    async def verify_email(
        self,
        tenant: Tenant,
        address: str,
        usage_type: UsageType | str,
        code: str,
        *,
        scope: str = "",
        claimed: str | None = None,
    ) -> None:
        """`verify` for a code sent by email: `CodeChecks.verify_email`."""
        await self.checks.verify_email(
            tenant, address, usage_type, code, scope=scope, claimed=claimed
        )

    async def prune(self, now: datetime | None = None) -> PruneResult:
        return await prune(
            self.clock() if now is None else now,
            tenants=self.tenants,
            codes=self.store,
            messages=self.message_log.store,
        )
