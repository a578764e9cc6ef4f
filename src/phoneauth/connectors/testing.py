"""Test doubles and the conformance kit, shipped so third-party connectors pass the same checks.

from phoneauth.connectors.testing import conformance_checks
@pytest.mark.parametrize("check", conformance_checks(MY_FACTORY), ids=lambda c: c.name)
async def test_conformance(check): await check.run(MY_FACTORY)
"""

from __future__ import annotations

import asyncio
import copy
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from phoneauth.connectors.base import ConnectorType, EmailMessage, Message, SmsMessage, UsageType
from phoneauth.connectors.config import dump_config, get_path, secret_fields, set_path
from phoneauth.connectors.errors import (
    ConnectorError,
    ConnectorTimeoutError,
    ConnectorUnreachableError,
    InvalidConfigError,
    TemplateNotFoundError,
)
from phoneauth.connectors.factory import ConnectorFactory
from phoneauth.connectors.http import build_http_client

SAMPLE_CODE = "864209"
SAMPLE_MESSAGE = SmsMessage(
    to="+4915112345678", usage_type=UsageType.SIGN_IN, payload={"code": SAMPLE_CODE}
)
SAMPLE_EMAIL = EmailMessage(
    to="jane.roe@example.com", usage_type=UsageType.SIGN_IN, payload={"code": SAMPLE_CODE}
)


def sample_message(factory: ConnectorFactory[Any], usage_type: UsageType | None = None) -> Message:
    """The sample message of the factory's type, optionally for another usage type."""
    sample: Message = SAMPLE_EMAIL if factory.type is ConnectorType.EMAIL else SAMPLE_MESSAGE
    if usage_type is None:
        return sample
    return type(sample)(to=sample.to, usage_type=usage_type, payload={"code": "1"})


def build_any(
    factory: ConnectorFactory[Any],
    config: Mapping[str, Any],
    client: httpx.AsyncClient,
    **options: Any,
) -> Any:
    """The connector of either type, with the factory's test options (an SMTP double)."""
    extra = dict(factory.test_options()) if factory.test_options else {}
    if factory.type is ConnectorType.EMAIL:
        return factory.build_email(config, client, **extra, **options)
    return factory.build(config, client, **extra, **options)


TRANSPORT_FAULTS: tuple[httpx.TransportError, ...] = (
    httpx.ConnectTimeout("connect timed out"),
    httpx.ReadTimeout("read timed out"),
    httpx.ConnectError("connection refused"),
    httpx.RemoteProtocolError("server disconnected"),
)
SERVER_FAILURES: tuple[httpx.Response, ...] = (
    httpx.Response(500, text="<html>Internal Server Error</html>"),
    httpx.Response(502, text="Bad Gateway"),
    httpx.Response(503, json={"error": "maintenance"}),
)
GARBAGE_BODIES: tuple[httpx.Response, ...] = (
    httpx.Response(200, text="<html>captive portal</html>"),
    httpx.Response(200, content=b"\x00\xff\xfe"),
    httpx.Response(200, json=["not", "an", "object"]),
    httpx.Response(200, json={}),
)

Handler = Callable[[httpx.Request], httpx.Response]


def expect(condition: object, failure: str) -> None:
    """`assert` that survives `python -O`: a failed check raises `AssertionError`."""
    if not condition:
        raise AssertionError(failure)


class RecordingTransport(httpx.MockTransport):
    """A MockTransport that keeps every request it answered."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []

        def record(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        super().__init__(record)


def recording_client(handler: Handler) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client answering with `handler`, and the list of requests it sees."""
    transport = RecordingTransport(handler)
    return httpx.AsyncClient(transport=transport), transport.requests


def client_raising(fault: Exception) -> httpx.AsyncClient:
    """A client whose every request fails with `fault`."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise fault

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def answering(response: httpx.Response) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )

    return handler


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(record.getMessage())
        self.text.append(repr(vars(record)))


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Everything logged anywhere while the block runs, message and attributes, as text."""
    capture = _Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    try:
        yield capture.text
    finally:
        root.removeHandler(capture)
        root.setLevel(previous)


def config_with_secrets(factory: ConnectorFactory[Any]) -> tuple[dict[str, Any], list[str]]:
    """The sample config with a recognisable value in every secret field."""
    config: dict[str, Any] = copy.deepcopy(dict(factory.sample_config))
    secrets = []
    for key in secret_fields(factory.config_model):
        if "." in key and get_path(config, key) is None:
            continue  # a nested secret of an alternative the sample does not use (OAuth2)
        value = f"S3cr3t{key.replace('.', '')}Value42"
        config = set_path(config, key, value)
        secrets.append(value)
    return config, secrets


def _templates_keeping(
    factory: ConnectorFactory[Any], keep: Callable[[str], bool]
) -> dict[str, Any]:
    config = copy.deepcopy(dict(factory.sample_config))
    kept = [t for t in config["templates"] if keep(t["usageType"]) and not t.get("locale")]
    expect(kept, f"{factory.id}: sample_config lacks the template this check needs")
    config["templates"] = kept[:1]
    return config


async def _send(
    factory: ConnectorFactory[Any],
    config: Mapping[str, Any],
    handler: Handler,
    message: Message | None = None,
) -> tuple[Any, list[httpx.Request]]:
    client, seen = recording_client(handler)
    async with client:
        connector = build_any(factory, config, client)
        result = await connector.send(message or sample_message(factory))
    return result, seen


def _no_secret_in(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        expect(secret not in text, f"a secret appears in {where}")


def _fake(factory: ConnectorFactory[Any]) -> Handler:
    if factory.provider_fake is None:
        raise AssertionError(f"{factory.id} declares no provider_fake")
    return factory.provider_fake


async def check_sample_config_validates(factory: ConnectorFactory[Any]) -> None:
    factory.parse_config(factory.sample_config)


async def check_config_round_trips(factory: ConnectorFactory[Any]) -> None:
    raw, secrets = config_with_secrets(factory)
    config = factory.parse_config(raw)
    stored = dump_config(config, reveal_secrets=True)
    expect(factory.parse_config(stored) == config, "config changed through storage serialisation")
    for secret in secrets:
        expect(secret in repr(stored), "a secret was lost through storage serialisation")


async def check_secrets_masked(factory: ConnectorFactory[Any]) -> None:
    raw, secrets = config_with_secrets(factory)
    config = factory.parse_config(raw)
    _no_secret_in(repr(config), secrets, "repr(config)")
    _no_secret_in(str(config), secrets, "str(config)")
    _no_secret_in(config.model_dump_json(), secrets, "the config's JSON")
    _no_secret_in(repr(dump_config(config)), secrets, "the masked config")


async def check_success_against_fake(factory: ConnectorFactory[Any]) -> None:
    raw, secrets = config_with_secrets(factory)
    with captured_logs() as logs:
        result, seen = await _send(factory, raw, _fake(factory))
    expect(len(seen) == 1, "one message must make exactly one request")
    expect(result.provider_message_id, "a successful send must return the provider's message id")
    _no_secret_in("\n".join(logs), [*secrets, SAMPLE_CODE, SAMPLE_EMAIL.to], "the logs")


async def check_transport_faults(factory: ConnectorFactory[Any]) -> None:
    raw, secrets = config_with_secrets(factory)
    for fault in TRANSPORT_FAULTS:
        with captured_logs() as logs:
            try:
                async with client_raising(fault) as client:
                    await build_any(factory, raw, client).send(sample_message(factory))
            except ConnectorError as error:
                expect(error.code.startswith("connector."), error.code)
                private = [*secrets, SAMPLE_CODE, SAMPLE_EMAIL.to]
                _no_secret_in(repr(error.to_dict()), private, "the error")
            else:
                raise AssertionError(f"{type(fault).__name__} did not raise a ConnectorError")
        _no_secret_in("\n".join(logs), [*secrets, SAMPLE_CODE, SAMPLE_EMAIL.to], "the logs")


async def check_server_failures(factory: ConnectorFactory[Any]) -> None:
    for response in SERVER_FAILURES:
        try:
            await _send(factory, factory.sample_config, answering(response))
        except ConnectorError as error:
            expect(error.code.startswith("connector."), error.code)
        else:
            raise AssertionError(f"HTTP {response.status_code} was taken for a success")


async def check_garbage_bodies(factory: ConnectorFactory[Any]) -> None:
    for response in GARBAGE_BODIES:
        try:
            await _send(factory, factory.sample_config, answering(response))
        except ConnectorError as error:
            expect(error.code.startswith("connector."), error.code)
        else:
            raise AssertionError(f"the body {response.content[:30]!r} was taken for a success")


async def check_generic_fallback(factory: ConnectorFactory[Any]) -> None:
    if factory.type is ConnectorType.EMAIL:
        # Logto's email connectors require some usage types: drop the one sent instead.
        config = copy.deepcopy(dict(factory.sample_config))
        dropped = UsageType.MFA_VERIFICATION.value
        config["templates"] = [t for t in config["templates"] if t["usageType"] != dropped]
        message = sample_message(factory, UsageType.MFA_VERIFICATION)
    else:
        config = _templates_keeping(factory, lambda usage: usage == UsageType.GENERIC.value)
        message = sample_message(factory)
    handler = factory.provider_fake or (lambda request: httpx.Response(500))
    result, seen = await _send(factory, config, handler, message)
    expect(result.provider_message_id, "the Generic template was not used as the fallback")
    expect(len(seen) == (1 if factory.provider_fake else 0), "the fallback send made no request")


async def check_template_not_found(factory: ConnectorFactory[Any]) -> None:
    message = sample_message(factory, UsageType.REGISTER)
    try:
        config = _templates_keeping(factory, lambda usage: usage == UsageType.SIGN_IN.value)
        connector_config: Any = factory.parse_config(config)
    except InvalidConfigError:
        return  # the config refuses to lack templates (Logto's SMTP rule): nothing to send
    try:
        await _send(factory, connector_config, lambda request: httpx.Response(500), message)
    except TemplateNotFoundError:
        return
    raise AssertionError("a message with no matching template and no Generic one was sent")


async def check_timeout_against_a_silent_server(factory: ConnectorFactory[Any]) -> None:
    """A real server on 127.0.0.1 that accepts and never answers: the send times out."""
    done = asyncio.Event()
    handlers: list[asyncio.Task[None]] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.append(task)
        await done.wait()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = {**factory.sample_config, "endpoint": f"http://127.0.0.1:{port}"}
    try:
        async with build_http_client(allow_private_hosts=True) as client:
            connector = build_any(factory, config, client, timeout=0.2)
            try:
                await connector.send(sample_message(factory))
            except ConnectorTimeoutError as error:
                expect(error.status == 504, "a timeout must answer 504")
            else:
                raise AssertionError("a provider that never answers did not time out")
    finally:
        done.set()
        await asyncio.gather(*handlers, return_exceptions=True)
        server.close()
        await server.wait_closed()


async def check_refused_connection(factory: ConnectorFactory[Any]) -> None:
    """A port on 127.0.0.1 where nothing listens: the send is unreachable, not a crash."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = {**factory.sample_config, "endpoint": f"http://127.0.0.1:{port}"}
    async with build_http_client(allow_private_hosts=True) as client:
        try:
            await build_any(factory, config, client).send(sample_message(factory))
        except ConnectorUnreachableError:
            return
    raise AssertionError("a refused connection did not raise ConnectorUnreachableError")


async def check_email_not_logged(factory: ConnectorFactory[Any]) -> None:
    """An email send logs neither the address nor the code, and the message's repr hides both."""
    message = sample_message(factory)
    expect(message.to not in repr(message), "repr(message) shows the address")
    expect(SAMPLE_CODE not in repr(message), "repr(message) shows the code")
    raw, secrets = config_with_secrets(factory)
    handler = factory.provider_fake or (lambda request: httpx.Response(500))
    with captured_logs() as logs:
        await _send(factory, raw, handler)
    _no_secret_in("\n".join(logs), [*secrets, SAMPLE_CODE, message.to], "the logs")


@dataclass(frozen=True, slots=True)
class Check:
    """One conformance check; `run` raises `AssertionError` when the connector fails it."""

    name: str
    run: Callable[[ConnectorFactory[Any]], Awaitable[None]]


def conformance_checks(factory: ConnectorFactory[Any]) -> list[Check]:
    """The checks that apply to this factory (HTTP checks only where it makes HTTP calls)."""
    checks = [
        Check("sample_config_validates", check_sample_config_validates),
        Check("config_round_trips", check_config_round_trips),
        Check("secrets_masked", check_secrets_masked),
    ]
    if "templates" in factory.sample_config:
        checks += [
            Check("generic_fallback", check_generic_fallback),
            Check("template_not_found", check_template_not_found),
        ]
    if factory.type is ConnectorType.EMAIL:
        checks.append(Check("email_not_logged", check_email_not_logged))
    if factory.provider_fake is not None:
        checks += [
            Check("success_against_fake", check_success_against_fake),
            Check("transport_faults", check_transport_faults),
            Check("server_failures", check_server_failures),
        ]
        if "accepts-any-2xx" not in factory.tags:
            checks.append(Check("garbage_bodies", check_garbage_bodies))
        if "endpoint" in factory.config_model.model_fields:
            checks += [
                Check("timeout_against_a_silent_server", check_timeout_against_a_silent_server),
                Check("refused_connection", check_refused_connection),
            ]
    return checks


async def run_conformance(factory: ConnectorFactory[Any]) -> None:
    """Run every applicable check; the first failure raises `AssertionError` naming the check."""
    for check in conformance_checks(factory):
        try:
            await check.run(factory)
        except AssertionError as failure:
            raise AssertionError(f"{factory.id}: {check.name}: {failure}") from failure
