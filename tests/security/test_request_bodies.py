"""D2: a large request body is refused with 413 before it is read, so it costs the server no
memory. The attack: 20 concurrent 50 MB bodies to the unauthenticated `POST /api/phone-format`
took the server from 201 MB to 950 MB, because every endpoint read the whole body first.

The server runs in a thread of this test process, so this process's resident memory, sampled
during the attack, is the server's.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests import local_http
from tests.e2e.conftest import Deployment, deploy

from phoneauth.settings import Settings

FIFTY_MB = 50 * 1024 * 1024
CHUNK = b" " * (64 * 1024)
LIMIT = 64 * 1024  # PHONEAUTH_MAX_BODY_BYTES' default


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes sent when the answer arrived
    seconds: float


async def post_without_finishing(url: str, path: str, *, chunked: bool, size: int) -> Answer:
    """POST `size` bytes to `path` over a raw connection, declared (`Content-Length`) or
    chunked, and stop sending as soon as the server answers."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    )
    started = time.monotonic()
    writer.write(head.encode())
    answer = asyncio.create_task(_read_answer(reader))
    sent = 0
    try:
        while sent < size and not answer.done():
            piece = CHUNK[: size - sent]
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
            await writer.drain()
            await asyncio.sleep(0)  # let the answer be read the moment it arrives
        if chunked and sent >= size:
            writer.write(b"0\r\n\r\n")
        status, headers, body = await asyncio.wait_for(answer, timeout=60)
    finally:
        answer.cancel()
        writer.close()
    return Answer(status, headers, body, sent, time.monotonic() - started)


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.strip().split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return int(status_line.split()[1]), headers, body


def resident_memory() -> int:
    """This process's resident set, in bytes."""
    found = re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert found is not None
    return int(found.group(1)) * 1024


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The largest resident set seen during the block (sampled every 2 ms), in `[0]`."""
    peak = [resident_memory()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], resident_memory())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
        peak[0] = max(peak[0], resident_memory())


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_concurrent_50_mb_bodies_are_refused_unread_and_cost_no_memory(
    deployment: Deployment, chunked: bool
) -> None:
    async def attack() -> list[Answer]:
        posts = (
            post_without_finishing(
                deployment.url, "/api/phone-format", chunked=chunked, size=FIFTY_MB
            )
            for _ in range(8)
        )
        return await asyncio.gather(*posts)

    before = resident_memory()
    with peak_memory() as peak:
        answers = asyncio.run(attack())
    grown = peak[0] - before

    assert grown < 16 * 1024 * 1024, f"the server grew by {grown / 2**20:.0f} MB"
    for answer in answers:
        assert answer.status == 413, answer.body
        assert answer.headers["content-type"] == "application/json"
        body = httpx.Response(413, content=answer.body).json()
        assert body["code"] == "request.body_too_large"
        assert body["details"] == {"max_bytes": LIMIT}
        assert str(LIMIT) in body["message"]
        assert answer.sent < FIFTY_MB, "the server waited for the whole body"
        assert answer.seconds < 10

    # Normal requests still work, on fresh connections and on the same server.
    response = local_http.post(
        f"{deployment.url}/api/phone-format",
        json={"region": "DE", "digits": "01511"},
        timeout=60,
    )
    assert response.status_code == 200
    assert response.json()["formatted"]


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_refused(
    deployment: Deployment,
) -> None:
    """The limit counts body bytes exactly, declared or streamed."""
    document = b'{"region": "DE", "digits": "01511"}'

    def padded(size: int) -> bytes:
        return document + b" " * (size - len(document))

    def streamed(data: bytes) -> object:
        yield data[: len(data) // 2]
        yield data[len(data) // 2 :]

    with local_http.client(base_url=deployment.url, timeout=30) as client:
        headers = {"Content-Type": "application/json"}
        at_limit = client.post("/api/phone-format", content=padded(LIMIT), headers=headers)
        assert at_limit.status_code == 200, at_limit.text
        over = client.post("/api/phone-format", content=padded(LIMIT + 1), headers=headers)
        assert over.status_code == 413
        assert over.json()["code"] == "request.body_too_large"
        chunked_at_limit = client.post(
            "/api/phone-format", content=streamed(padded(LIMIT)), headers=headers
        )
        assert chunked_at_limit.status_code == 200, chunked_at_limit.text
        chunked_over = client.post(
            "/api/phone-format", content=streamed(padded(LIMIT + 1)), headers=headers
        )
        assert chunked_over.status_code == 413
        assert chunked_over.json()["code"] == "request.body_too_large"


@pytest.mark.parametrize("path", ["/api/users", "/api/no-such-route", "/health"])
def test_a_route_that_reads_no_body_still_answers_the_envelope(
    deployment: Deployment, path: str
) -> None:
    """A declared body past the limit is refused before routing: the same 413 envelope on
    every path, and no route ever sees it."""
    response = local_http.post(
        deployment.url + path,
        content=b"x" * (LIMIT + 1),
        headers={**deployment.auth, "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request.body_too_large"


def test_the_limit_is_the_setting(settings: Settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 2048})
    with deploy(small) as deployment:
        body = b'{"region": "DE", "digits": "01511"}' + b" " * 2048
        response = local_http.post(
            f"{deployment.url}/api/phone-format",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )
    assert response.status_code == 413
    assert response.json()["details"] == {"max_bytes": 2048}


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
def test_the_console_takes_larger_forms_and_refuses_past_its_limit_with_a_page(
    deployment: Deployment, chunked: bool
) -> None:
    """Console forms carry templates and tenant imports: their limit (1 MiB by default) is
    their own, and the console answers a page in words, never JSON."""

    def form(size: int) -> object:
        data = b"username=admin&password=" + b"p" * (size - 24)
        if not chunked:
            return data
        return iter([data[:LIMIT], data[LIMIT:]])

    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with local_http.client(base_url=deployment.url, timeout=30) as client:
        larger_than_the_api_limit = client.post(
            "/console/sign-in", content=form(4 * LIMIT), headers=headers
        )
        assert larger_than_the_api_limit.status_code != 413  # read, then refused for its CSRF
        too_large = client.post("/console/sign-in", content=form(2**20 + 1), headers=headers)
    assert too_large.status_code == 413
    assert too_large.headers["content-type"].startswith("text/html")
    assert "Too large" in too_large.text
    assert f"at most {2**20} bytes" in too_large.text
