"""The attacks the service withstands, each against a real server: uvicorn on 127.0.0.1 over
real HTTP (`tests.e2e.conftest.deploy`), real fakes of providers, a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.e2e.conftest import Deployment, deploy

from phoneauth.settings import Settings


@pytest.fixture
def deployment(settings: Settings) -> Iterator[Deployment]:
    """The app served on the test's database: an SQLite file, then PostgreSQL."""
    with deploy(settings) as deployed:
        yield deployed
