"""Private files and folders: created 0600 and 0700, never replacing what exists."""

from __future__ import annotations

import stat
from pathlib import Path

from phoneauth.crypto import SECRET_FILE, load_master_secret
from phoneauth.files import create_private_file, private_folder


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_folder_is_0700_and_its_missing_parents_are_made_too(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "data"
    private_folder(folder)
    assert mode(folder) == 0o700
    assert folder.parent.is_dir()


def test_a_new_file_is_0600_and_an_existing_one_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "file"
    assert create_private_file(path, "first") is True
    assert mode(path) == 0o600
    assert create_private_file(path, "second") is False
    assert path.read_text() == "first"


def test_the_generated_secret_key_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    secret = load_master_secret(None, data)
    assert mode(data) == 0o700
    assert mode(data / SECRET_FILE) == 0o600
    assert load_master_secret(None, data) == secret  # kept, not generated again
