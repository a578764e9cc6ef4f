"""The development outbox for email: keeps emails instead of sending them.

The same outbox as the SMS one (process memory, optionally a JSON-lines file), with the subject
and content type kept beside the rendered body. A production tenant refuses it.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from phoneauth.connectors.base import ConnectorType, EmailMessage, SendResult
from phoneauth.connectors.config import ConnectorConfig, EmailTemplate, EmailTemplates
from phoneauth.connectors.factory import ConnectorFactory, package_text
from phoneauth.connectors.providers.outbox import OutboxKeeper, OutboxMessage, keep
from phoneauth.connectors.templates import default_email_templates, render, select_template


class EmailOutboxConfig(ConnectorConfig):
    templates: EmailTemplates = Field(
        default_factory=lambda: tuple(
            EmailTemplate.model_validate(item) for item in default_email_templates()
        ),
        title="Email templates",
        description="Rendered exactly as a real email connector would send them.",
    )
    file_path: str | None = Field(
        default=None,
        alias="filePath",
        title="File",
        description="Optional: also append every email as one JSON line to this file.",
    )


class EmailOutboxConnector(OutboxKeeper[EmailOutboxConfig]):
    async def send(self, message: EmailMessage) -> SendResult:
        template = select_template(self.config.templates, message)
        kept = OutboxMessage(
            id="outbox-" + uuid.uuid4().hex,
            to=message.to,
            usage_type=message.usage_type.value,
            text=render(template.content, message.payload),
            payload=dict(message.payload),
            sent_at=self.clock(),
            subject=render(template.subject, message.payload),
            content_type=template.content_type,
        )
        return await keep(self.outbox, kept, self.config.file_path)


FACTORY: ConnectorFactory[EmailOutboxConfig] = ConnectorFactory(
    id="outbox-email",
    target="outbox-email",
    name="Development email outbox",
    description="Keeps emails instead of sending them, so you can try email sign-in locally.",
    config_model=EmailOutboxConfig,
    readme=package_text(__name__, "README.md"),
    logo_svg=package_text(__name__, "logo.svg"),
    sample_config={"templates": default_email_templates()},
    create=EmailOutboxConnector,
    provider_fake=None,
    tags=("development",),
    type=ConnectorType.EMAIL,
)
