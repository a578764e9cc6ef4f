"""The routing rules document: defaults, validation with stable codes, the order a send tries."""

from __future__ import annotations

from typing import Any

import pytest

from phoneauth.domain.sms_routing import (
    ACTIVE,
    DuplicateRoutingCountryError,
    InvalidRoutingCountryError,
    RoutingRulesError,
    UnknownRoutingConnectorError,
    parse_rules,
)

STANDBY = ["sb-a", "sb-b"]


def test_an_empty_document_has_the_defaults() -> None:
    rules = parse_rules({}, STANDBY)
    assert rules.to_document() == {
        "routes": [],
        "fallback": [],
        "deadlineSeconds": 10.0,
        "circuitBreaker": {"failureThreshold": 5, "cooldownSeconds": 30.0},
    }
    assert rules.connectors_for("DE") == (ACTIVE,)


def test_a_route_wins_for_its_countries_and_the_rest_use_active_then_fallback() -> None:
    rules = parse_rules(
        {
            "routes": [{"countries": ["CN", "HK"], "connectors": ["sb-b", "active"]}],
            "fallback": ["sb-a", "active", "sb-a"],
        },
        STANDBY,
    )
    assert rules.connectors_for("HK") == ("sb-b", ACTIVE)
    assert rules.connectors_for("DE") == (ACTIVE, "sb-a")
    assert rules.connectors_for(None) == (ACTIVE, "sb-a")
    assert parse_rules(rules.to_document(), STANDBY) == rules


@pytest.mark.parametrize(
    ("document", "error", "field"),
    [
        ({"fallback": ["gone"]}, UnknownRoutingConnectorError, "fallback"),
        (
            {"routes": [{"countries": ["DE"], "connectors": ["nope"]}]},
            UnknownRoutingConnectorError,
            "routes[0].connectors",
        ),
        (
            {"routes": [{"countries": ["XX"], "connectors": ["active"]}]},
            InvalidRoutingCountryError,
            "routes[0].countries",
        ),
        (
            {"routes": [{"countries": ["de"], "connectors": ["active"]}]},
            InvalidRoutingCountryError,
            "routes[0].countries",
        ),
        (
            {
                "routes": [
                    {"countries": ["DE"], "connectors": ["active"]},
                    {"countries": ["FR", "DE"], "connectors": ["sb-a"]},
                ]
            },
            DuplicateRoutingCountryError,
            "routes[1].countries",
        ),
        ({"routes": [{"countries": [], "connectors": ["active"]}]}, RoutingRulesError, None),
        ({"routes": [{"countries": ["DE"], "connectors": []}]}, RoutingRulesError, None),
        ({"deadlineSeconds": 0}, RoutingRulesError, "deadlineSeconds"),
        ({"deadlineSeconds": 61}, RoutingRulesError, "deadlineSeconds"),
        ({"deadlineSeconds": True}, RoutingRulesError, "deadlineSeconds"),
        ({"deadlineSeconds": "5"}, RoutingRulesError, "deadlineSeconds"),
        (
            {"circuitBreaker": {"failureThreshold": 2.5}},
            RoutingRulesError,
            "circuitBreaker.failureThreshold",
        ),
        (
            {"circuitBreaker": {"cooldownSeconds": -1}},
            RoutingRulesError,
            "circuitBreaker.cooldownSeconds",
        ),
        ({"circuitBreaker": {"other": 1}}, RoutingRulesError, "circuitBreaker"),
        ({"surprise": 1}, RoutingRulesError, "surprise"),
    ],
)
def test_each_mistake_has_its_code_and_field(
    document: dict[str, Any], error: type[RoutingRulesError], field: str | None
) -> None:
    with pytest.raises(RoutingRulesError) as info:
        parse_rules(document, STANDBY)
    assert type(info.value) is error
    if field is not None:
        assert info.value.details["field"] == field
