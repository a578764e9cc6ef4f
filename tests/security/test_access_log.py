"""D5: no phone number or code in any log line, the access log included. uvicorn's access log
printed query strings in full (`GET /api/users?phone=%2B4915112340003`), and the search routes
of users, message logs, the outbox and invitations take the number in the query.

The real `phoneauth serve`, access log at INFO as it runs by default, its output read back.
"""

from __future__ import annotations

from pathlib import Path

from tests.security.served import serve

NUMBER = "4915112340003"
NATIONAL = "15112340003"  # the digits that identify the subscriber, without the country code


def test_the_access_log_shows_no_phone_number_of_any_search(tmp_path: Path) -> None:
    searches = [
        f"/api/users?phone=%2B{NUMBER}&page=1&page_size=20",
        f"/api/users?phone={NUMBER}",
        f"/api/message-logs?phone=%2B{NUMBER}",
        f"/api/outbox?phone=%2B{NUMBER}",
        f"/api/organization-invitations?invitee=%2B{NUMBER}",
        f"/t/default/api/users?phone=%2B{NUMBER}",
        f"/api/users?%2B{NUMBER}",  # a number where a name belongs
        f"/api/users/%2B{NUMBER}",  # and in the path
        "/api/verification-codes/123456",
    ]
    with serve(tmp_path) as served, served.client() as client:
        for target in searches:
            client.get(target, headers=served.auth)
        client.get(f"/api/users?phone=%2B{NUMBER}")  # unauthenticated: 401, logged all the same
        output = served.output()

    access_lines = [line for line in output.splitlines() if '"GET /' in line]
    assert len(access_lines) >= len(searches) + 1, output
    for line in output.splitlines():
        assert NATIONAL not in line, line
        assert "123456" not in line, line
    assert any(
        "GET /api/users?phone=***&page=***&page_size=*** HTTP/1.1" in x for x in access_lines
    )
    assert any("GET /api/message-logs?phone=*** HTTP/1.1" in x for x in access_lines)
    assert any("GET /api/organization-invitations?invitee=*** HTTP/1.1" in x for x in access_lines)
    assert any("GET /api/users/*** HTTP/1.1" in line for line in access_lines)
