"""The attacks the service withstands, each against a real server: uvicorn on 127.0.0.1 over
real HTTP (`tests.e2e.conftest.deploy`), real fakes of providers, a real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from tests.e2e.conftest import Deployment, deploy_for_test

from phoneauth.settings import Settings


@pytest.fixture
def deployment(
    settings: Settings,
    module_settings: Settings,
    module_app: FastAPI,
    request: pytest.FixtureRequest,
) -> Iterator[Deployment]:
    """The app served on the test's database: an SQLite file, then PostgreSQL."""
    with deploy_for_test(settings, module_settings, module_app, request) as deployed:
        yield deployed
