"""Sending a code's message and writing its message-log entries: the code engine's way out.

Its own module because delivery has reasons of its own to change (the tenant's routing and
failover, delivery-report callbacks, the sealed number a status query needs, the message log's
columns), apart from the rules that decide which code a send sends and whether a code is right.
The code engine holds one `CodeDelivery` and never touches a connector itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from phoneauth.connectors import (
    ConnectorError,
    EmailMessage,
    SendResult,
    SmsMessage,
    UsageType,
    mask_phone,
)
from phoneauth.connectors.base import mask_email
from phoneauth.connectors.segments import SmsSize
from phoneauth.domain.delivery_reports import initial_delivery_status, with_status_callback
from phoneauth.domain.emails import email_key
from phoneauth.domain.message_log import MessageLog, MessageLogEntry, MessageStatus, sms_size
from phoneauth.domain.phone_numbers import region_of
from phoneauth.domain.ports import ActiveConnector, ActiveEmailConnector
from phoneauth.domain.sealed_recipients import SealedRecipients
from phoneauth.domain.sms_router import Delivered, Plan, SmsRouter
from phoneauth.errors import DatabaseBusyError, DatabaseUnavailableError, PhoneauthError
from phoneauth.ids import new_id

log = logging.getLogger("phoneauth.codes")


def masked_recipient(recipient: str) -> str:
    """What a log line or the message log may show of a phone number or an email address."""
    return mask_email(recipient) if "@" in recipient else mask_phone(recipient)


class CodeDelivery:
    """Sends a code's SMS (through the tenant's routing) or email, and writes one message-log
    entry per attempt and per refused send. `clock` stamps the entries."""

    def __init__(
        self,
        *,
        message_log: MessageLog,
        router: SmsRouter,
        clock: Callable[[], datetime],
        public_url: str | None = None,
        sealed_recipients: SealedRecipients | None = None,
    ) -> None:
        self.message_log = message_log
        self.router = router
        self.clock = clock
        self.public_url = public_url  # PHONEAUTH_PUBLIC_URL: delivery reports come back there
        self.sealed_recipients = sealed_recipients  # numbers a status query will need

    async def sms(
        self,
        tenant_id: str,
        plan: Plan,
        message: SmsMessage,
        code_id: str | None = None,
    ) -> Delivered:
        """Send through the tenant's routing (without rules: the active connector once), one
        message-log row per attempt; the final connector's error, or `ConnectorError` for one
        that broke the contract."""
        send_id = new_id()

        async def record_attempt(
            connector: ActiveConnector,
            attempt: int,
            error: ConnectorError | None,
            result: SendResult | None,
            started: float,
        ) -> None:
            await self.record(
                tenant_id,
                connector,
                message.usage_type,
                message.to,
                error=error,
                message_id=None if result is None else result.provider_message_id,
                started=started,
                code_id=code_id,
                send_id=send_id,
                attempt=attempt,
                size=sms_size(connector.connector, message),
            )

        def for_connector(message: SmsMessage, connector: ActiveConnector) -> SmsMessage:
            return with_status_callback(message, self.public_url, tenant_id, connector)

        delivered = await self.router.deliver(plan, message, record_attempt, for_connector)
        log.info("code sent to %s via %s", mask_phone(message.to), delivered.connector.factory_id)
        return delivered

    async def sms_later(
        self,
        tenant_id: str,
        plan: Plan,
        message: SmsMessage,
        code_id: str | None = None,
    ) -> None:
        """A background send: the caller has its answer, so failures go to the logs only (a
        send cut by shutdown is logged as failed by the router on its way out)."""
        try:
            await self.sms(tenant_id, plan, message, code_id)
        except ConnectorError as error:
            log.warning(
                "background SMS to %s via %s failed (%s)",
                mask_phone(message.to),
                " then ".join(candidate.factory_id for candidate in plan.candidates),
                error.code,
            )

    async def record(
        self,
        tenant_id: str,
        active: ActiveConnector | ActiveEmailConnector | None,
        usage: UsageType,
        recipient: str,
        *,
        error: PhoneauthError | None = None,
        message_id: str | None = None,
        started: float | None = None,
        test: bool = False,
        code_id: str | None = None,
        send_id: str | None = None,
        attempt: int | None = None,
        size: SmsSize | None = None,
    ) -> None:
        latency = None if started is None else round((time.perf_counter() - started) * 1000)
        country = (
            None if "@" in recipient or not recipient.startswith("+") else region_of(recipient)
        )
        status = MessageStatus.SENT if error is None else MessageStatus.FAILED
        delivery_status = initial_delivery_status(active, message_id)
        sealed = None  # only a message that will be polled for (delivery status `accepted`)
        if self.sealed_recipients and active and delivery_status and not test:
            sealed = self.sealed_recipients.seal(active.factory_id, recipient)
        entry = MessageLogEntry(
            id=new_id(),
            tenant_id=tenant_id,
            created_at=self.clock(),
            connector_id=None if active is None else active.row_id,
            factory_id=None if active is None else active.factory_id,
            usage_type=usage.value,
            phone_masked=masked_recipient(recipient),
            status=MessageStatus.TEST if test else status,
            provider_message_id=message_id,
            error_code=None if error is None else error.code,
            error_message=None if error is None else error.message,
            latency_ms=latency,
            code_id=code_id,
            country=country,
            delivery_status=delivery_status,
            recipient_sealed=sealed,
            send_id=send_id,
            attempt=attempt,
            encoding=None if size is None else size.encoding,
            segments=None if size is None else size.segments,
            characters=None if size is None else size.characters,
        )
        try:
            await self.message_log.record(entry)
        except (DatabaseBusyError, DatabaseUnavailableError) as error:
            # The SMS is already out (or already failed); the answer must not change. The
            # database's trouble is logged once where it is noticed: no traceback here.
            log.warning("could not write the message log (%s)", error.code)
        except Exception:
            log.exception("could not write the message log")

    async def email(
        self, tenant_id: str, active: ActiveEmailConnector, message: EmailMessage
    ) -> SendResult:
        """Send through the Email connector and log the attempt, the address masked."""
        usage, key = message.usage_type, email_key(message.to)
        started = time.perf_counter()
        try:
            result = await active.connector.send(message)
        except ConnectorError as error:
            await self.record(tenant_id, active, usage, key, error=error, started=started)
            raise
        except Exception as error:
            log.error("connector %s raised %s", active.factory_id, type(error).__name__)
            wrapped = ConnectorError(
                "The Email connector failed unexpectedly.", factory_id=active.factory_id
            )
            await self.record(tenant_id, active, usage, key, error=wrapped, started=started)
            raise wrapped from None
        await self.record(
            tenant_id, active, usage, key, message_id=result.provider_message_id, started=started
        )
        log.info("code sent to %s via %s", message.masked_to, active.factory_id)
        return result

    async def email_later(
        self, tenant_id: str, active: ActiveEmailConnector, message: EmailMessage
    ) -> None:
        """A background email: the caller has its answer, so failures go to the logs only."""
        try:
            await self.email(tenant_id, active, message)
        except ConnectorError as error:
            log.warning(
                "background email to %s via %s failed (%s)",
                message.masked_to,
                active.factory_id,
                error.code,
            )
