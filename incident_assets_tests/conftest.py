"""Shared fixtures: the simulator over real HTTP, and a project pointed at a temp DuckDB."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

# dlt's working dir must stay out of the home directory, and be set before dlt is imported
_DLT_DATA_DIR = tempfile.mkdtemp(prefix="incident-assets-dlt-")
os.environ["DLT_DATA_DIR"] = _DLT_DATA_DIR
# a PostgreSQL server given by CI (.ci/run) or the developer; read before the clean-up below
_POSTGRES_SERVER_URL = os.environ.get("INCIDENT_ASSETS_TEST_POSTGRES_URL", "").strip()
for _key in [k for k in os.environ if k.startswith(("SOURCES__", "DESTINATION__", "INCIDENT_ASSETS_"))]:
    del os.environ[_key]
os.environ.pop("API_TOKEN", None)
os.environ.pop("DAGSTER_HOME", None)

from incident_assets.simulator import DEFAULT_TOKEN, Simulator  # noqa: E402
from incident_assets_tests import postgres  # noqa: E402


@pytest.fixture(scope="session")
def shared_simulator() -> Iterator[Simulator]:
    """A read-only simulator for tests that never change its data."""
    with Simulator(incidents=300, seed=7) as sim:
        yield sim


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A simulator of the test's own, free to mutate."""
    with Simulator(incidents=300, seed=7) as sim:
        yield sim


@pytest.fixture
def duckdb_path(tmp_path: Path) -> Path:
    return tmp_path / "incidents.duckdb"


def point_project_at(monkeypatch: pytest.MonkeyPatch, sim: Simulator, duckdb_path: Path) -> None:
    """The contract's environment variables, as a user would set them."""
    monkeypatch.setenv("SOURCES__INCIDENT_API__BASE_URL", sim.base_url)
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(duckdb_path))
    # keep fault tests quick: dlt's exponential backoff starts at this many seconds
    monkeypatch.setenv("SOURCES__INCIDENT_API__RETRY_BACKOFF_FACTOR", "0.1")


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch, simulator: Simulator, duckdb_path: Path) -> Simulator:
    point_project_at(monkeypatch, simulator, duckdb_path)
    return simulator


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """Admin URL of a PostgreSQL server: INCIDENT_ASSETS_TEST_POSTGRES_URL, else a throwaway
    cluster started here (never skipped: no server is a failure with the reason)."""
    if _POSTGRES_SERVER_URL:
        yield _POSTGRES_SERVER_URL
        return
    try:
        server = postgres.start()
    except postgres.PostgresUnavailable as e:
        pytest.fail(f"cannot start a PostgreSQL server for the tests: {e}", pytrace=False)
    try:
        yield server.url
    finally:
        postgres.stop(server.directory)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """URL of an empty database of the test's own (`test_<uuid hex>`)."""
    url = postgres.create_database(postgres_server)
    try:
        yield url
    finally:
        postgres.drop_database(postgres_server, url)
