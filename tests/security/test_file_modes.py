"""The SQLite database (phone numbers, password hashes), its WAL and shared-memory files and
the generated secret key are readable by their owner only: they were created 0644 under the
usual umask 022, so any local user could copy them.
"""

from __future__ import annotations

import stat
from pathlib import Path

from tests.security.served import serve


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_first_start_makes_the_data_folder_0700_and_its_files_0600(tmp_path: Path) -> None:
    with serve(tmp_path) as served, served.client() as client:
        # A write, so that the WAL holds something while the files are looked at.
        created = client.post(
            "/api/tenants", json={"id": "acme", "name": "Acme"}, headers=served.auth
        )
        assert created.status_code == 201, created.text
        data = served.data_dir
        files = {
            name: mode(data / name)
            for name in ("phoneauth.db", "phoneauth.db-wal", "phoneauth.db-shm", "secret.key")
        }
        folder = mode(data)
    assert folder == 0o700
    assert files == dict.fromkeys(files, 0o600)


def test_an_existing_data_folder_and_database_keep_the_mode_their_operator_gave(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o750)
    data.chmod(0o750)
    with serve(tmp_path):
        pass
    database = data / "phoneauth.db"
    assert mode(data) == 0o750
    assert mode(database) == 0o600  # new: created private
    database.chmod(0o640)  # the operator lets a backup group read it
    with serve(tmp_path):
        assert mode(database) == 0o640
