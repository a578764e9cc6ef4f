"""The routing rules of one tenant: which SMS connectors a send tries, in which order, how long.

Connectors are named by id: a standby connector's id, or `"active"` for whichever connector
is active, so a "change connector" keeps the rules valid. A route sends the numbers of its
countries through its own connectors only; every other number goes to the active connector,
then the `fallback` order. The document is validated whole, with a stable code per mistake.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from phoneauth.domain.phone_numbers import is_region
from phoneauth.errors import PhoneauthError

ACTIVE = "active"
"""The rules' name for the tenant's active SMS connector (`GET /api/connectors`)."""

DEFAULT_DEADLINE_S = 10.0
MIN_DEADLINE_S, MAX_DEADLINE_S = 1.0, 60.0
DEFAULT_FAILURE_THRESHOLD = 5
MAX_FAILURE_THRESHOLD = 100
DEFAULT_COOLDOWN_S = 30.0
MIN_COOLDOWN_S, MAX_COOLDOWN_S = 1.0, 3600.0
MAX_ROUTES = 250
MAX_CONNECTORS_PER_LIST = 10


class RoutingRulesError(PhoneauthError):
    """The SMS routing rules are invalid."""

    code = "sms_routing.invalid_rules"
    status = 400


class UnknownRoutingConnectorError(RoutingRulesError):
    """The rules name a connector that is neither a standby connector nor `active`."""

    code = "sms_routing.unknown_connector"


class InvalidRoutingCountryError(RoutingRulesError):
    """A route names a country that is not an ISO 3166 region code (such as `DE` or `HK`)."""

    code = "sms_routing.invalid_country"


class DuplicateRoutingCountryError(RoutingRulesError):
    """A country is in more than one route (or twice in one)."""

    code = "sms_routing.duplicate_country"


@dataclass(frozen=True, slots=True)
class Route:
    countries: tuple[str, ...]
    connectors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CircuitSettings:
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD
    cooldown_seconds: float = DEFAULT_COOLDOWN_S


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """A validated rules document; `connectors_for(region)` is the order a send tries."""

    routes: tuple[Route, ...] = ()
    fallback: tuple[str, ...] = ()
    deadline_seconds: float = DEFAULT_DEADLINE_S
    circuit: CircuitSettings = field(default_factory=CircuitSettings)

    def connectors_for(self, region: str | None) -> tuple[str, ...]:
        """The ids to try for a number of `region`, duplicates removed, first kept."""
        for route in self.routes:
            if region is not None and region in route.countries:
                return tuple(dict.fromkeys(route.connectors))
        return tuple(dict.fromkeys((ACTIVE, *self.fallback)))

    def names(self) -> set[str]:
        """Every connector id the rules name (`active` included)."""
        return {*self.fallback, *(c for route in self.routes for c in route.connectors)}

    def to_document(self) -> dict[str, Any]:
        """The JSON document the API answers and the store keeps (camelCase)."""
        return {
            "routes": [
                {"countries": list(r.countries), "connectors": list(r.connectors)}
                for r in self.routes
            ],
            "fallback": list(self.fallback),
            "deadlineSeconds": self.deadline_seconds,
            "circuitBreaker": {
                "failureThreshold": self.circuit.failure_threshold,
                "cooldownSeconds": self.circuit.cooldown_seconds,
            },
        }


def _number(
    value: object, name: str, low: float, high: float, default: float, *, integer: bool = False
) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RoutingRulesError(f"`{name}` must be a number.", field=name)
    if integer and not float(value).is_integer():
        raise RoutingRulesError(f"`{name}` must be a whole number.", field=name)
    if not low <= value <= high:
        raise RoutingRulesError(
            f"`{name}` must be between {low:g} and {high:g}.", field=name, min=low, max=high
        )
    return float(value)


def _ids(value: object, name: str, known: set[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise RoutingRulesError(f"`{name}` must be a list of connector ids.", field=name)
    if len(value) > MAX_CONNECTORS_PER_LIST:
        raise RoutingRulesError(
            f"`{name}` names more than {MAX_CONNECTORS_PER_LIST} connectors.", field=name
        )
    for item in value:
        if item != ACTIVE and item not in known:
            raise UnknownRoutingConnectorError(
                f"`{name}` names {item!r}, which is no standby connector and not `active`.",
                field=name,
                connector_id=item,
            )
    return tuple(value)


def parse_rules(document: Mapping[str, Any], standby_ids: Iterable[str]) -> RoutingRules:
    """The rules in `document` (the API's camelCase JSON), checked against the tenant's
    standby connectors; every field may be left out for its default.

    Raises:
        RoutingRulesError and subclasses: the first mistake, with `details.field`.
    """
    known = set(standby_ids)
    unknown = set(document) - {"routes", "fallback", "deadlineSeconds", "circuitBreaker"}
    if unknown:
        raise RoutingRulesError(f"Unknown field `{sorted(unknown)[0]}`.", field=sorted(unknown)[0])
    raw_routes = document.get("routes") or []
    if not isinstance(raw_routes, list) or len(raw_routes) > MAX_ROUTES:
        raise RoutingRulesError(f"`routes` must be a list of at most {MAX_ROUTES}.", field="routes")
    routes, seen = [], set[str]()
    for index, raw in enumerate(raw_routes):
        where = f"routes[{index}]"
        if not isinstance(raw, Mapping) or set(raw) - {"countries", "connectors"}:
            raise RoutingRulesError(f"`{where}` must be {{countries, connectors}}.", field=where)
        countries = raw.get("countries")
        if not isinstance(countries, list) or not countries:
            raise RoutingRulesError(
                f"`{where}.countries` must be a non-empty list.", field=f"{where}.countries"
            )
        for country in countries:
            if not isinstance(country, str) or not is_region(country):
                raise InvalidRoutingCountryError(
                    f"`{where}.countries` has {country!r}, not an ISO 3166 region code.",
                    field=f"{where}.countries",
                    country=str(country)[:8],
                )
            if country in seen:
                raise DuplicateRoutingCountryError(
                    f"{country} is in more than one route.",
                    field=f"{where}.countries",
                    country=country,
                )
            seen.add(country)
        connectors = _ids(raw.get("connectors"), f"{where}.connectors", known)
        if not connectors:
            raise RoutingRulesError(
                f"`{where}.connectors` must name a connector.", field=f"{where}.connectors"
            )
        routes.append(Route(tuple(countries), connectors))
    breaker = document.get("circuitBreaker") or {}
    if not isinstance(breaker, Mapping) or set(breaker) - {"failureThreshold", "cooldownSeconds"}:
        raise RoutingRulesError(
            "`circuitBreaker` must be {failureThreshold, cooldownSeconds}.", field="circuitBreaker"
        )
    threshold = "circuitBreaker.failureThreshold"
    cooldown = "circuitBreaker.cooldownSeconds"
    return RoutingRules(
        routes=tuple(routes),
        fallback=_ids(document.get("fallback") or [], "fallback", known),
        deadline_seconds=_number(
            document.get("deadlineSeconds"),
            "deadlineSeconds",
            MIN_DEADLINE_S,
            MAX_DEADLINE_S,
            DEFAULT_DEADLINE_S,
        ),
        circuit=CircuitSettings(
            failure_threshold=int(
                _number(
                    breaker.get("failureThreshold"),
                    threshold,
                    1,
                    MAX_FAILURE_THRESHOLD,
                    DEFAULT_FAILURE_THRESHOLD,
                    integer=True,
                )
            ),
            cooldown_seconds=_number(
                breaker.get("cooldownSeconds"),
                cooldown,
                MIN_COOLDOWN_S,
                MAX_COOLDOWN_S,
                DEFAULT_COOLDOWN_S,
            ),
        ),
    )
