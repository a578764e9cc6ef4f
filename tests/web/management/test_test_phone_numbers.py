"""Test phone numbers over HTTP: set in the tenant settings, then a code request sends no SMS."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

PHONE = "+4915112345678"
FIXED = "424242"


async def set_test_numbers(api: httpx.AsyncClient, numbers: list[dict[str, Any]]) -> httpx.Response:
    return await api.patch("/api/tenant/settings", json={"testPhoneNumbers": numbers})


async def test_test_numbers_are_stored_in_e164(api: httpx.AsyncClient) -> None:
    saved = await set_test_numbers(api, [{"phone": "0049 151 1234 5678", "code": FIXED}])
    assert saved.status_code == 200, saved.text
    expected = [{"phone": PHONE, "code": FIXED}]
    assert saved.json()["settings"]["testPhoneNumbers"] == expected
    settings = (await api.get("/api/tenant")).json()["settings"]
    assert settings["testPhoneNumbers"] == expected
    assert settings["verificationCodePolicy"]["maxRetryAttempts"] == 10  # the rest is kept


@pytest.mark.parametrize(
    "numbers",
    [
        [{"phone": "+49123", "code": FIXED}],
        [{"phone": PHONE, "code": "4242"}],
        [{"phone": PHONE, "code": 424242}],
        [{"phone": PHONE, "code": FIXED}, {"phone": "4915112345678", "code": "000000"}],
        [{"phone": PHONE, "code": FIXED, "note": "typo"}],
        "not a list",
    ],
)
async def test_bad_test_numbers_are_400_guard_invalid_input(
    api: httpx.AsyncClient, numbers: Any
) -> None:
    response = await set_test_numbers(api, numbers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "guard.invalid_input"
    assert (await api.get("/api/tenant")).json()["settings"]["testPhoneNumbers"] == []


async def test_a_code_request_for_a_test_number_sends_nothing_and_the_fixed_code_verifies(
    api: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await set_test_numbers(api, [{"phone": PHONE, "code": FIXED}])).status_code == 200
    # From here on no record, not even the SQL driver's DEBUG lines, carries the fixed code
    # (saving the settings above writes it, as a query parameter, like any setting).
    caplog.clear()
    # No connector is configured at all.
    assert (await api.get("/api/connectors")).json() == []
    sent = await api.post("/api/verification-codes", json={"phone": PHONE})
    assert sent.status_code == 204, sent.text
    wrong = await api.post(
        "/api/verification-codes/verify", json={"phone": PHONE, "verificationCode": "000000"}
    )
    assert wrong.json()["code"] == "verification_code.code_mismatch"
    right = await api.post(
        "/api/verification-codes/verify", json={"phone": PHONE, "verificationCode": FIXED}
    )
    assert right.status_code == 204
    logs = await api.get("/api/message-logs", params={"status": "test"})
    assert logs.headers["Total-Number"] == "1"
    [entry] = logs.json()
    assert (entry["status"], entry["usageType"], entry["connectorId"]) == ("test", "Generic", None)
    assert FIXED not in logs.text
    assert PHONE not in logs.text
    for record in caplog.records:
        assert FIXED not in record.getMessage()


async def test_a_test_number_never_reaches_the_outbox(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/connectors", json={"connectorId": "outbox-sms"})).is_success
    assert (await set_test_numbers(api, [{"phone": PHONE, "code": FIXED}])).status_code == 200
    assert (await api.post("/api/verification-codes", json={"phone": PHONE})).status_code == 204
    assert (await api.get("/api/outbox", params={"phone": PHONE})).json() == []
