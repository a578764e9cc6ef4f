"""The shipped conformance kit, run over every installed factory: built-in and third-party."""

from __future__ import annotations

from typing import Any

import pytest

from phoneauth.connectors import ConnectorFactory, load_registry
from phoneauth.connectors.testing import Check, conformance_checks

CASES = [(factory, check) for factory in load_registry() for check in conformance_checks(factory)]


@pytest.mark.parametrize(
    ("factory", "check"), CASES, ids=[f"{factory.id}:{check.name}" for factory, check in CASES]
)
async def test_conformance(factory: ConnectorFactory[Any], check: Check) -> None:
    await check.run(factory)


def test_http_connectors_get_every_fault_check() -> None:
    names = {check.name for check in conformance_checks(load_registry().get("http-sms"))}
    assert {"transport_faults", "server_failures", "success_against_fake"} <= names
