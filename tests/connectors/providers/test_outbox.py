from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests import local_http

from phoneauth.connectors import SmsMessage, UsageType
from phoneauth.connectors.providers.outbox import DEFAULT_OUTBOX, FACTORY, Outbox
from phoneauth.connectors.testing import run_conformance

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


async def test_keeps_the_rendered_message_and_its_code() -> None:
    outbox = Outbox()
    connector = FACTORY.build({}, local_http.async_client(), outbox=outbox, clock=lambda: NOW)
    result = await connector.send(
        SmsMessage(to="+4915112345678", usage_type=UsageType.REGISTER, payload={"code": "555111"})
    )
    kept = outbox.latest("+4915112345678")
    assert kept is not None
    assert kept.id == result.provider_message_id
    assert kept.text == "Your sign-up verification code is 555111."
    assert kept.code == "555111"
    assert kept.sent_at == NOW
    assert outbox.messages(to="+10000000000") == []


async def test_custom_localised_templates_and_file_copy(tmp_path: Path) -> None:
    outbox = Outbox()
    path = tmp_path / "sub" / "outbox.jsonl"
    config = {
        "filePath": str(path),
        "templates": [
            {"usageType": "Generic", "content": "Code {{code}}"},
            {"usageType": "Generic", "locale": "fr", "content": "Code : {{code}}"},
        ],
    }
    connector = FACTORY.build(config, local_http.async_client(), outbox=outbox)
    await connector.send(SmsMessage(to="+33612345678", payload={"code": "1", "locale": "fr-FR"}))
    await connector.send(SmsMessage(to="+33612345678", payload={"code": "2"}))
    assert [m.text for m in outbox.messages()] == ["Code : 1", "Code 2"]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["text"] for line in lines] == ["Code : 1", "Code 2"]
    assert lines[0]["to"] == "+33612345678"


async def test_the_outbox_is_bounded_and_uses_a_shared_default() -> None:
    outbox = Outbox(maxlen=2)
    connector = FACTORY.build({}, local_http.async_client(), outbox=outbox)
    for code in ("1", "2", "3"):
        await connector.send(SmsMessage(to="+4915112345678", payload={"code": code}))
    assert [m.code for m in outbox.messages()] == ["2", "3"]
    outbox.clear()
    assert outbox.messages() == []
    await FACTORY.build({}, local_http.async_client()).send(
        SmsMessage(to="+4915100000001", payload={"code": "9"})
    )
    latest = DEFAULT_OUTBOX.latest("+4915100000001")
    assert latest is not None
    assert latest.code == "9"


async def test_conformance() -> None:
    await run_conformance(FACTORY)
