"""SMS templates are bounded: at most 1,600 characters (ten SMS) and no control characters but
line breaks. The attack run saved and sent a 1 MB template and a 60 KB message, NUL included.

Checked on a real server with a fake Twilio: refused on test, create and update with the field
named; 1,600 characters are accepted and sent whole.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID, Deployment, FakeTwilio
from tests.servers import serve_in_thread

TWILIO = "twilio-short-message-service"
PHONE = "+4915112340003"
FIELD = "templates.0.content"
REFUSED = {
    "1 MB": "x" * 1_000_000 + "{{code}}",
    "60 KB": "x" * 60_000 + "{{code}}",
    "1,601 characters": "x" * 1593 + "{{code}}",
    "NUL": "Your code\x00{{code}}",
    "escape sequence": "\x1b[2JYour code {{code}}",
    "tab": "Your code:\t{{code}}",
    "lone CR": "Your code:\r{{code}}",
}
MOST = "x" * 1592 + "{{code}}"  # 1,600 characters


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    with serve_in_thread(fake.asgi()) as url:
        fake.url = url
        yield fake


@pytest.fixture
async def client(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    async with local_http.async_client(
        base_url=deployment.url, headers=deployment.auth, timeout=60
    ) as client:
        yield client


def config(twilio: FakeTwilio, content: str) -> dict[str, Any]:
    return {
        "accountSID": ACCOUNT_SID,
        "authToken": AUTH_TOKEN,
        "fromMessagingServiceSID": SERVICE_SID,
        "templates": [{"usageType": "Generic", "content": content}],
        "endpoint": twilio.url,
    }


def assert_refused(response: httpx.Response, content: str) -> None:
    body = response.json()
    if response.status_code == 413 and len(content) > 64 * 1024:
        # A request-body limit may refuse a body this large before the config is read.
        assert body["code"] == "request.body_too_large"
        return
    assert response.status_code == 400, response.text[:500]
    assert body["code"] == "connector.invalid_config"
    assert [problem["field"] for problem in body["details"]["errors"]] == [FIELD]
    assert len(response.content) < 4096  # the template is not echoed back


@pytest.mark.parametrize("content", REFUSED.values(), ids=REFUSED.keys())
async def test_a_template_too_long_or_with_control_characters_is_refused_everywhere(
    client: httpx.AsyncClient, twilio: FakeTwilio, content: str
) -> None:
    tested = await client.post(
        f"/api/connectors/{TWILIO}/test", json={"phone": PHONE, "config": config(twilio, content)}
    )
    assert_refused(tested, content)
    created = await client.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": config(twilio, content)}
    )
    assert_refused(created, content)
    saved = await client.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": config(twilio, MOST)}
    )
    assert saved.status_code == 200, saved.text
    updated = await client.patch(
        f"/api/connectors/{saved.json()['id']}", json={"config": config(twilio, content)}
    )
    assert_refused(updated, content)
    assert twilio.messages == []


async def test_1600_characters_are_accepted_counting_a_browsers_crlf_as_one_line_break(
    client: httpx.AsyncClient, twilio: FakeTwilio
) -> None:
    longest = "Hi\r\n" + "x" * 1589 + "{{code}}"  # 1,601 as sent, 1,600 with the CRLF as LF
    tested = await client.post(
        f"/api/connectors/{TWILIO}/test", json={"phone": PHONE, "config": config(twilio, longest)}
    )
    assert tested.status_code == 204, tested.text
    saved = await client.post(
        "/api/connectors", json={"connectorId": TWILIO, "config": config(twilio, "short {{code}}")}
    )
    assert saved.status_code == 200, saved.text
    updated = await client.patch(
        f"/api/connectors/{saved.json()['id']}", json={"config": config(twilio, longest)}
    )
    assert updated.status_code == 200, updated.text
    stored = updated.json()["config"]["templates"][0]["content"]
    assert stored == "Hi\n" + "x" * 1589 + "{{code}}"
    assert len(stored) == 1600
    sent = await client.post("/api/verification-codes", json={"phone": PHONE})
    assert sent.status_code == 204, sent.text
    test_send, real_send = twilio.messages
    assert test_send.body == "Hi\n" + "x" * 1589 + "000000"
    assert real_send.body[:-6] == "Hi\n" + "x" * 1589
    assert real_send.body[-6:].isdigit()
