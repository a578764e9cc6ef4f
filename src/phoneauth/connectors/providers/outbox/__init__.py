"""The development outbox: keeps messages instead of sending them; sign-in without a provider.

The messages, codes included, stay in process memory (and optionally a JSON-lines file), where an
admin of a development tenant and the tests can read them. A production tenant refuses it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import Field

from phoneauth.connectors.base import SendResult, SmsMessage
from phoneauth.connectors.config import ConnectorConfig, ContentTemplate, ContentTemplates
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.http import utc_now
from phoneauth.connectors.templates import default_content_templates, render_sms


class OutboxConfig(ConnectorConfig):
    templates: ContentTemplates = Field(
        default_factory=lambda: tuple(
            ContentTemplate.model_validate(item) for item in default_content_templates()
        ),
        title="SMS templates",
        description="Rendered exactly as a real provider would send them.",
    )
    file_path: str | None = Field(
        default=None,
        alias="filePath",
        title="File",
        description="Optional: also append every message as one JSON line to this file.",
    )


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message the outbox kept: what a phone would have received."""

    id: str
    to: str
    usage_type: str
    text: str
    payload: dict[str, Any]
    sent_at: datetime = field(default_factory=utc_now)
    subject: str | None = None
    """Emails only, as is `content_type` (`text/plain` or `text/html`)."""
    content_type: str | None = None

    @property
    def code(self) -> str | None:
        code = self.payload.get("code")
        return None if code is None else str(code)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sent_at"] = self.sent_at.isoformat()
        return data


class Outbox:
    """The newest messages, bounded so a long-running dev server does not grow without end."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._messages: deque[OutboxMessage] = deque(maxlen=maxlen)

    def add(self, message: OutboxMessage) -> None:
        self._messages.append(message)

    def messages(self, to: str | None = None) -> list[OutboxMessage]:
        """Oldest first; only those to `to` when given."""
        return [m for m in self._messages if to is None or m.to == to]

    def latest(self, to: str) -> OutboxMessage | None:
        for message in reversed(self._messages):
            if message.to == to:
                return message
        return None

    def clear(self) -> None:
        self._messages.clear()


DEFAULT_OUTBOX = Outbox()


ConfigT = TypeVar("ConfigT")


class OutboxKeeper(Generic[ConfigT]):
    """A development connector that keeps what it would send (the SMS and email outboxes)."""

    def __init__(
        self,
        config: ConfigT,
        client: httpx.AsyncClient | None = None,
        *,
        outbox: Outbox | None = None,
        clock: Callable[[], datetime] = utc_now,
        **_options: Any,
    ) -> None:
        self.config = config
        self.outbox = DEFAULT_OUTBOX if outbox is None else outbox
        self.clock = clock


class OutboxConnector(OutboxKeeper[OutboxConfig]):
    def sms_text(self, message: SmsMessage) -> str:
        """The text sent: the template rendered, with the autofill lines (`RendersText`)."""
        return render_sms(self.config.templates, message)

    async def send(self, message: SmsMessage) -> SendResult:
        kept = OutboxMessage(
            id="outbox-" + uuid.uuid4().hex,
            to=message.to,
            usage_type=message.usage_type.value,
            text=self.sms_text(message),
            payload=dict(message.payload),
            sent_at=self.clock(),
        )
        return await keep(self.outbox, kept, self.config.file_path)


async def keep(outbox: Outbox, kept: OutboxMessage, file_path: str | None) -> SendResult:
    """Add the message to the outbox (and the file, when configured)."""
    outbox.add(kept)
    if file_path:
        await asyncio.to_thread(_append_line, Path(file_path), kept)
    return SendResult(provider_message_id=kept.id)


def _append_line(path: Path, message: OutboxMessage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(message.to_dict(), ensure_ascii=False) + "\n")


FACTORY: ConnectorFactory[OutboxConfig] = ConnectorFactory(
    id="outbox-sms",
    target="outbox-sms",
    name="Development outbox",
    description="Keeps messages instead of sending them, so you can try phone sign-in locally.",
    config_model=OutboxConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={"templates": default_content_templates()},
    create=OutboxConnector,
    provider_fake=None,
    tags=("development",),
)
