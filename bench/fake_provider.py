"""A fake SMS provider for benchmarks: answers every factory's requests after a fixed delay.

Connectors reach it through their endpoint override `http://127.0.0.1:PORT/f/<factory-id>`; the
answer is the factory's own `provider_fake`, i.e. what the real provider says on success.
`/fail/...` is a provider that is down: 503 at once, for the failover row.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httpx
import uvicorn

from phoneauth.connectors import load_registry

DELAY_S = 0.05


def make_app() -> Any:
    registry = load_registry()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        parts = scope["path"].split("/")
        if len(parts) > 1 and parts[1] == "fail":  # a provider that is down: 503 at once
            await _answer(send, httpx.Response(503, json={"error": "unavailable"}))
            return
        factory = registry.get(parts[2]) if len(parts) > 2 and parts[1] == "f" else None
        await asyncio.sleep(DELAY_S)
        if factory is None or factory.provider_fake is None:
            response = httpx.Response(404, json={"error": "unknown factory"})
        else:
            headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
            url = f"http://127.0.0.1{scope['path']}?{scope['query_string'].decode()}"
            response = factory.provider_fake(
                httpx.Request(scope["method"], url, headers=headers, content=body)
            )
        await _answer(send, response)

    return app


async def _answer(send: Any, response: httpx.Response) -> None:
    raw_headers = [
        (k.encode(), v.encode())
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "transfer-encoding")
    ]
    content = response.content
    raw_headers.append((b"content-length", str(len(content)).encode()))
    start = {"type": "http.response.start", "status": response.status_code}
    await send({**start, "headers": raw_headers})
    await send({"type": "http.response.body", "body": content})


if __name__ == "__main__":
    port = int(sys.argv[1])
    uvicorn.run(make_app(), host="127.0.0.1", port=port, log_level="warning", backlog=2048)
