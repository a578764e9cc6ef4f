"""Several worker processes, one set of numbers: prometheus_client's multiprocess mode.

Each worker writes its values to files in `PROMETHEUS_MULTIPROC_DIR` (the library picks its
file-backed values when it is imported with the variable set, so it must be set before the
workers start); a scrape at any worker reads and sums every worker's files. `phoneauth serve`
gives the workers a private, empty folder of their own and removes it when it stops.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

ENVIRONMENT = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def shared_directory() -> Path | None:
    """The workers' folder when this process runs in multiprocess mode, else None."""
    folder = os.environ.get(ENVIRONMENT)
    return Path(folder) if folder else None


@contextmanager
def private_directory() -> Iterator[Path]:
    """A new empty folder (mode 0700: only this user reads the numbers) named in the
    environment for the workers started inside the block; removed, and the environment put
    back, afterwards. A fresh folder per start: no count of an earlier run is summed in."""
    folder = Path(tempfile.mkdtemp(prefix="phoneauth-metrics-"))
    previous = os.environ.get(ENVIRONMENT)
    os.environ[ENVIRONMENT] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop(ENVIRONMENT, None)
        else:
            os.environ[ENVIRONMENT] = previous
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process now holds the number: not ours, but alive
    return True


def forget_dead_workers(folder: Path) -> None:
    """Drop the gauges of workers that are gone (uvicorn restarts a worker that died and has
    no hook for it), so a live gauge shows live workers only; their counters stay summed."""
    for path in folder.glob("gauge_live*.db"):
        found = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if found and not _alive(int(found.group(1))):
            mark_process_dead(int(found.group(1)), str(folder))


def worker_stopped(folder: Path) -> None:
    """This worker is stopping: its live gauges leave the sums now."""
    mark_process_dead(os.getpid(), str(folder))


def collected(folder: Path) -> CollectorRegistry:
    """A registry holding the sum of every worker's values, for one scrape."""
    forget_dead_workers(folder)
    registry = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(registry, path=str(folder))
    return registry
