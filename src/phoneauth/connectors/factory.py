"""A connector factory: one provider's metadata plus the way to build a connector from a config."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Generic, TypeVar, cast

import httpx
from pydantic import BaseModel

from phoneauth.connectors.base import Connector, ConnectorType, EmailConnector
from phoneauth.connectors.config import ConnectorConfig, parse_config
from phoneauth.connectors.errors import UnexpectedTypeError
from phoneauth.connectors.receipts import CallbackReceipts

C = TypeVar("C", bound=ConnectorConfig)

ProviderFake = Callable[[httpx.Request], httpx.Response]


def package_text(package: str, name: str) -> str:
    """A text file shipped next to a provider module (README.md, logo.svg)."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class ConnectorFactory(Generic[C]):
    """Everything phoneauth needs to know about one SMS or email provider.

    Attributes:
        id: Logto's factory id (`twilio-short-message-service`), stable forever.
        target: the provider key (`twilio-sms`).
        name: the provider's display name.
        description: one sentence for the console's provider cards.
        config_model: the pydantic model that validates the config and drives the console form.
        readme: Markdown telling a user what to fill in and where to find it.
        logo_svg: SVG markup for the console.
        sample_config: a valid Logto-shaped config (placeholders, defaults for the form).
        create: builds the connector from a validated config, an HTTP client and options.
        provider_fake: answers a request as the provider does when it accepts a message; used by
            the conformance kit and the benchmarks. `None` for connectors that make no HTTP call.
        type: `Sms` or `Email` (Logto's `ConnectorType`); a tenant has one active of each.
        test_options: build options that make a connector which speaks no HTTP (SMTP) deliver
            to an in-process double, for the conformance kit.
        receipts: reads and checks the provider's delivery-report callbacks (`POST
            /api/connectors/{id}/delivery-reports`); None for providers that post none.
        polls_delivery: its connectors ask the provider for delivery statuses
            (`PollsDelivery`): the service polls their recent messages in the background.
        status_query_needs_recipient: the provider's status query names the recipient's number
            (Aliyun `QuerySendDetails`), so the message log keeps it encrypted while the
            message waits for its final status, and the poller receives it.
    """

    id: str
    target: str
    name: str
    description: str
    config_model: type[C]
    readme: str
    logo_svg: str
    sample_config: Mapping[str, Any]
    create: Callable[..., Connector | EmailConnector]
    provider_fake: ProviderFake | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    type: ConnectorType = ConnectorType.SMS
    test_options: Callable[[], Mapping[str, Any]] | None = None
    receipts: CallbackReceipts | None = None
    polls_delivery: bool = False
    status_query_needs_recipient: bool = False

    def parse_config(
        self, config: Mapping[str, Any] | BaseModel, *, allow_private_hosts: bool = True
    ) -> C:
        """Validate a config; `InvalidConfigError` names every bad or missing field.

        `allow_private_hosts=False` refuses endpoints on literal loopback or private addresses.
        """
        return parse_config(self.config_model, config, allow_private_hosts=allow_private_hosts)

    def build(
        self,
        config: Mapping[str, Any] | BaseModel,
        client: httpx.AsyncClient,
        **options: Any,
    ) -> Connector:
        """A ready SMS connector. Options: `timeout` (s); `clock`/`nonce` for signing tests.

        An Email factory raises `UnexpectedTypeError`: use `build_email`.
        """
        self._expect(ConnectorType.SMS)
        return cast(Connector, self.create(self.parse_config(config), client, **options))

    def build_email(
        self,
        config: Mapping[str, Any] | BaseModel,
        client: httpx.AsyncClient,
        **options: Any,
    ) -> EmailConnector:
        """A ready email connector; an SMS factory raises `UnexpectedTypeError`."""
        self._expect(ConnectorType.EMAIL)
        return cast(EmailConnector, self.create(self.parse_config(config), client, **options))

    def _expect(self, wanted: ConnectorType) -> None:
        if self.type is not wanted:
            raise UnexpectedTypeError(
                f"{self.name} is an {self.type.value} connector, not {wanted.value}.",
                factory_id=self.id,
                type=self.type.value,
            )

    @property
    def logo(self) -> str:
        """The logo as a data URI, as Logto's `GET /api/connector-factories` returns it."""
        encoded = base64.b64encode(self.logo_svg.encode()).decode("ascii")
        return f"data:image/svg+xml;base64,{encoded}"

    def metadata(self) -> dict[str, Any]:
        """Logto's factory JSON shape (`ConnectorMetadata` plus `type`)."""
        return {
            "id": self.id,
            "target": self.target,
            "type": self.type.value,
            "platform": None,
            "isDemo": False,
            "name": {"en": self.name},
            "description": {"en": self.description},
            "logo": self.logo,
            "logoDark": None,
            "readme": self.readme,
            "configTemplate": None,
        }
