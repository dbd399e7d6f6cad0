"""Shared fixtures: the simulator over real HTTP, and a project pointed at a temp DuckDB.

`make test` runs the tests in parallel (pytest-xdist, `--dist loadgroup`): every fixture here
is per process or per test (temp dirs, free ports, `test_<uuid>` databases), and the hook at
the end keeps the tests that share an expensive module fixture on one worker.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
from _pytest.nodeid import NodeId

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


# the longest chains of tests (a Dagster webserver and daemon, the benchmark run, the CLI runs):
# handed out first, so that a worker does not start one of them when the others are done
START_FIRST = ("test_webserver_e2e.py", "test_benchmarks_smoke.py", "test_cli.py")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker with `--dist loadgroup`: the tests that share a module- or
    class-scoped fixture form one group (one worker builds that fixture once), and the longest
    modules come first."""
    if not getattr(config.option, "loadgroup", False):
        return  # a serial run: order and groups do not matter
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        scopes = {d.scope for defs in info.name2fixturedefs.values() for d in defs} if info else set()
        if scopes & {"module", "class", "package"}:
            # xdist groups by an `@<group>` suffix of the node id; xdist 3.8 cannot add it to
            # pytest 9's structured ids (an `xdist_group` mark is silently ignored), so it is set here
            item._id = NodeId.parse(f"{item.nodeid}@{item.path.name}")  # type: ignore[attr-defined]
    rank = {name: i for i, name in enumerate(START_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the same on every worker
