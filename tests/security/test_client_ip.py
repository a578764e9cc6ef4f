"""The per-IP send limit counts the client's real address.

Attack: uvicorn believed `X-Forwarded-For` from 127.0.0.1 by default, so behind no proxy a
client naming a new address in each request was never limited. Now the header counts only from
the peers in PHONEAUTH_TRUSTED_PROXIES (default: none), as `phoneauth serve` starts uvicorn.

And a backend calling the Management API's send-code for its users was counted as one client:
it may now state the end user's address (`ip`), which is counted instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment
from tests.security.served import Served, serve

IP_LIMIT = 2


def phones(first: int = 6_000_000) -> Iterator[str]:
    for n in range(first, first + 1000):
        yield f"+49151{n:08d}"


def prepare(client: httpx.Client, auth: dict[str, str]) -> None:
    """The outbox as SMS connector, and a per-IP budget of `IP_LIMIT` sends."""
    limits = {"rateLimits": {"ipLimit": IP_LIMIT, "ipWindowSeconds": 600}}
    assert client.patch("/api/tenant/settings", json=limits, headers=auth).status_code == 200
    connector = {"connectorId": "outbox-sms", "config": {}}
    assert client.post("/api/connectors", json=connector, headers=auth).status_code == 200


def send(client: httpx.Client, auth: dict[str, str], phone: str, **more: str) -> httpx.Response:
    return client.post("/api/verification-codes", json={"phone": phone, **more}, headers=auth)


def forwarded_sends(served: Served, count: int) -> list[httpx.Response]:
    """`count` sends, each naming another client address in X-Forwarded-For."""
    numbers = phones()
    with served.client() as client:
        prepare(client, served.auth)
        return [
            send(client, {**served.auth, "X-Forwarded-For": f"198.51.100.{n}"}, next(numbers))
            for n in range(count)
        ]


def test_without_trusted_proxies_a_rotating_forwarded_for_does_not_escape_the_limit(
    tmp_path: Path,
) -> None:
    with serve(tmp_path) as served:
        answers = forwarded_sends(served, IP_LIMIT + 2)
    assert [a.status_code for a in answers] == [204] * IP_LIMIT + [429, 429]
    assert answers[-1].json()["code"] == "request.ip_rate_limited"


def test_the_forwarded_address_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    # 127.0.0.1 is no proxy here: its X-Forwarded-For is not believed.
    with serve(tmp_path / "other", PHONEAUTH_TRUSTED_PROXIES="10.0.0.0/8") as served:
        untrusted = forwarded_sends(served, IP_LIMIT + 1)
    assert [a.status_code for a in untrusted] == [204] * IP_LIMIT + [429]

    with serve(tmp_path / "local", PHONEAUTH_TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1") as served:
        answers = forwarded_sends(served, IP_LIMIT + 2)
        # One forwarded address once more than its budget: that client is limited.
        numbers = phones(first=7_000_000)
        headers = {**served.auth, "X-Forwarded-For": "203.0.113.9"}
        with served.client() as client:
            same = [send(client, headers, next(numbers)) for _ in range(IP_LIMIT + 1)]
    assert [a.status_code for a in answers] == [204] * (IP_LIMIT + 2)
    assert [a.status_code for a in same] == [204] * IP_LIMIT + [429]


def test_a_malformed_trusted_proxies_setting_stops_the_start(tmp_path: Path) -> None:
    malformed = serve(tmp_path, PHONEAUTH_TRUSTED_PROXIES="10.0.0.0/8,proxy.internal")
    with pytest.raises(AssertionError, match="PHONEAUTH_TRUSTED_PROXIES") as failed, malformed:
        pass  # pragma: no cover - it must not start
    assert "'proxy.internal' is not an IP address or network" in str(failed.value)
    assert "Traceback" not in str(failed.value)  # one line naming the variable


# --- the Management API's send-code: the end user's address, stated by the backend ------------


def test_management_send_code_counts_the_stated_end_user_ip(deployment: Deployment) -> None:
    numbers = phones()
    with local_http.client(base_url=deployment.url, timeout=30) as client:
        prepare(client, deployment.auth)
        first_user = [
            send(client, deployment.auth, next(numbers), ip="203.0.113.7")
            for _ in range(IP_LIMIT + 1)
        ]
        # Other end users of the same backend have budgets of their own, IPv6 included;
        # the backend's own address was never counted.
        others = [
            send(client, deployment.auth, next(numbers), ip="2001:db8::1"),
            send(client, deployment.auth, next(numbers), ip="198.51.100.20"),
            send(client, deployment.auth, next(numbers)),
            send(client, deployment.auth, next(numbers)),
        ]
        caller_again = send(client, deployment.auth, next(numbers))
    assert [a.status_code for a in first_user] == [204] * IP_LIMIT + [429]
    assert first_user[-1].json()["code"] == "request.ip_rate_limited"
    assert [a.status_code for a in others] == [204] * 4
    assert caller_again.status_code == 429  # the caller's own budget: the two sends without ip


INVALID_IPS = ["localhost", "203.0.113.300", "", "1.2.3.4, 5.6.7.8", "1.2.3.4/32", 7, ["1.2.3.4"]]


def test_management_send_code_takes_an_ip_address_and_refuses_anything_else(
    deployment: Deployment,
) -> None:
    numbers = phones()
    with local_http.client(base_url=deployment.url, timeout=30) as client:
        prepare(client, deployment.auth)
        accepted = [
            send(client, deployment.auth, next(numbers), ip=ip)
            for ip in ("203.0.113.7", "2001:DB8:0:0::1", "::ffff:198.51.100.1")
        ]
        refused = [
            client.post(
                "/api/verification-codes",
                json={"phone": "+4915112345678", "ip": ip},
                headers=deployment.auth,
            )
            for ip in INVALID_IPS
        ]
    assert [a.status_code for a in accepted] == [204] * 3
    for ip, response in zip(INVALID_IPS, refused, strict=True):
        assert response.status_code == 400, ip
        body = response.json()
        assert body["code"] == "guard.invalid_input"
        assert [problem["field"] for problem in body["details"]["errors"]] == ["body.ip"], ip


def test_the_openapi_document_declares_the_optional_ip(deployment: Deployment) -> None:
    document = local_http.get(f"{deployment.url}/openapi.json", timeout=60).json()
    body = document["paths"]["/api/verification-codes"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = document["components"]["schemas"][name]
    # Exactly one of `phone` and `email` (Logto's union); the IP is never required.
    assert "ip" not in schema.get("required", [])
    assert {"phone", "email", "ip"} <= set(schema["properties"])
    assert "end user's IP address" in schema["properties"]["ip"]["description"]
    assert {"type": "string", "maxLength": 45} in schema["properties"]["ip"]["anyOf"]
