"""A NUL in a URL is bad input on both databases: never a 500 (PostgreSQL refuses NUL in text),
and a page a person opened stays a page."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

NUL = "a%00b"


def _nul_requests(document: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """Every operation of the API, once with NUL in each of its path and query parameters."""
    found = []
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            in_path = {p["name"] for p in parameters if p["in"] == "path"}
            plain = dict.fromkeys(in_path, "x")
            for parameter in parameters:
                names = {**plain}
                query = {}
                if parameter["in"] == "path":
                    names[parameter["name"]] = NUL
                elif parameter["in"] == "query":
                    query[parameter["name"]] = "a\x00b"
                else:
                    continue
                path = template.format(**names)
                found.append((method.upper(), path, query))
    return found


async def test_no_operation_answers_nul_with_a_server_error(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    tried = _nul_requests(document)
    assert len(tried) > 150  # every tenant route twice, and each parameter of each
    failed = []
    for method, path, query in tried:
        body = {} if method in {"POST", "PUT", "PATCH"} else None
        response = await api.request(method, path, params=query, json=body)
        if response.status_code >= 500 or not response.headers["content-type"].startswith(
            ("application/json", "text/html")
        ):
            failed.append((method, path, query, response.status_code))
    assert failed == []


async def test_a_nul_is_invalid_input_and_a_tenant_with_one_does_not_exist(
    api: httpx.AsyncClient,
) -> None:
    user = await api.get(f"/api/users/{NUL}")
    logs = await api.get("/api/message-logs", params={"factoryId": "a\x00b"})
    tenant = await api.get(f"/t/{NUL}/api/users")
    for refused in (user, logs):
        assert refused.status_code == 400
        assert refused.json()["code"] == "guard.invalid_input"
    assert tenant.status_code == 404
    assert tenant.json()["code"] == "tenant.not_found"


async def test_pages_with_a_nul_are_pages(api: httpx.AsyncClient) -> None:
    for path, words in (
        (f"/t/{NUL}/sign-in", "There is no sign-in page at this address"),
        (f"/oidc/auth/{NUL}", "start signing in again"),
    ):
        page = await api.get(path, headers={"Accept": "text/html"})
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert words in page.text


async def test_a_lone_surrogate_in_a_json_field_is_refused_not_stored(
    api: httpx.AsyncClient,
) -> None:
    body = '{"customContent": {"x": "\\ud800"}}'  # JSON's escape of a lone surrogate
    patched = await api.patch(
        "/api/sign-in-exp", content=body, headers={"Content-Type": "application/json"}
    )
    assert patched.status_code == 400
    assert patched.json()["code"] == "guard.invalid_input"
    # Stored, it made every later read of the sign-in experience fail to encode: a 500 for good.
    assert (await api.get("/api/sign-in-exp")).status_code == 200
    assert (await api.get("/api/.well-known/sign-in-exp")).status_code == 200


async def test_a_lone_surrogate_that_a_check_names_is_still_a_coded_answer(
    api: httpx.AsyncClient,
) -> None:
    json_type = {"Content-Type": "application/json"}
    # pydantic could not build the message of a refused value holding it (UnicodeEncodeError).
    protection = await api.put(
        "/api/sms-protection", content='{"deniedCountries": ["\\ud800LV"]}', headers=json_type
    )
    assert protection.status_code == 400
    assert protection.json()["code"] == "guard.invalid_input"
    # The error names the value: written with JSON's escape, not a failed encoding.
    routing = await api.put(
        "/api/sms-routing",
        content='{"routes": [{"countries": ["\\ud800CN"], "connectors": ["x"]}]}',
        headers=json_type,
    )
    assert routing.status_code == 400
    assert routing.json()["code"] == "sms_routing.invalid_country"
    assert routing.json()["details"]["country"] == "\ud800CN"
    assert b'"\\ud800CN"' in routing.content


async def test_any_other_encoding_failure_is_ours() -> None:
    from fastapi import FastAPI

    from phoneauth.web.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.get("/ascii")
    async def ascii_only() -> None:
        "é".encode("ascii")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/ascii")
    assert answer.status_code == 500
    assert answer.json()["code"] == "unknown"


def _sample(schema: dict[str, Any], components: dict[str, Any], top: bool = True) -> Any:
    """A small value of `schema`: its first example or enum value, required members only below
    the top level (where every member is given)."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _sample(options[0], components, top) if options else None
    for key in ("const", "example"):
        if key in schema:
            return schema[key]
    if schema.get("enum") or schema.get("examples"):
        return (schema.get("enum") or schema["examples"])[0]
    if schema.get("type") == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        return {
            name: _sample(member, components, top=False)
            for name, member in schema.get("properties", {}).items()
            if top or name in required
        }
    if schema.get("type") == "array":
        return [_sample(schema.get("items", {}), components, top=False)]
    return {"integer": 1, "number": 1, "boolean": True}.get(schema.get("type", ""), "x")


def _with_surrogate(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _with_surrogate(member) for name, member in value.items()}
    if isinstance(value, list):
        return [_with_surrogate(member) for member in value]
    return "\ud800" + value if isinstance(value, str) else value


async def test_no_body_answers_a_lone_surrogate_with_a_server_error(
    api: httpx.AsyncClient,
) -> None:
    """Every operation that takes JSON, with a lone surrogate in all its text, then in each of
    its members in turn."""
    document = (await api.get("/openapi.json")).json()
    components = document["components"]["schemas"]
    failed, sent = [], 0
    for template, operations in document["paths"].items():
        path = re.sub(r"\{[^}]+\}", "x", template.replace("{tenant_id}", "default"))
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            body = _sample(content["application/json"]["schema"], components)
            bodies = [_with_surrogate(body)]
            if isinstance(body, dict):
                bodies += [body | {name: _with_surrogate(body[name])} for name in body]
            for each in bodies:
                sent += 1
                answer = await api.request(
                    method.upper(),
                    path,
                    content=json.dumps(each),  # "\ud800": JSON's escape of it
                    headers={"Content-Type": "application/json"},
                )
                if answer.status_code >= 500:
                    failed.append((method.upper(), path, answer.status_code))
    assert sent > 300
    assert failed == []
