"""Files that hold secrets or personal data (the SQLite database, the generated secret key):
created readable by their owner only, folder 0700 and file 0600, whatever the process umask.

Only what phoneauth creates is set; an existing folder or file keeps the mode its operator gave.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> None:
    """Create `path` as a private folder unless it exists (missing parents get the usual mode,
    as `mkdir -p` gives them)."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        return  # made meanwhile by another process: its maker chose the mode
    path.chmod(FOLDER_MODE)  # the umask may have taken bits away from the mode asked for


def create_private_file(path: Path, text: str = "") -> bool:
    """Create `path` holding `text`, private from its first byte; False when it exists already
    (it is left as it is). There is no moment at which others could open it."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(descriptor, FILE_MODE)
        file.write(text)
    return True
