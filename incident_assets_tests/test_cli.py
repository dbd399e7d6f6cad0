"""The headless path users script: `dagster asset materialize -m incident_assets.definitions --select '*'`
with only the contract's environment variables, and a second, empty DuckDB file loading everything."""

from __future__ import annotations

import os
import subprocess
import sys

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN
from incident_assets_tests.ingestion import query, row_counts


def materialize_everything(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize",
         "-m", "incident_assets.definitions", "--select", "*"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_cli_materializes_everything_and_a_new_destination_loads_everything(shared_simulator, tmp_path):
    sim = shared_simulator
    contract_env = {
        "SOURCES__INCIDENT_API__BASE_URL": sim.base_url,
        "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
        "INCIDENT_ASSETS_AS_OF": "2026-10-15T00:00:00Z",
        "INCIDENT_ASSETS_HTML_REPORT": str(tmp_path / "reliability.html"),
        "DLT_DATA_DIR": str(tmp_path / "dlt"),
    }
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    for name in ("first", "second"):
        db = tmp_path / f"{name}.duckdb"
        done = materialize_everything({**base, **contract_env, "DESTINATION__DUCKDB__CREDENTIALS": str(db)})
        assert done.returncode == 0, done.stderr[-3000:]
        assert row_counts(db) == {e.name: sim.count(e.name) for e in ENDPOINTS}
        assert query(db, "select count(*), min(as_of) from reliability.incident_facts")[0][0] == sim.count(
            "incidents"
        )
    assert (tmp_path / "reliability.html").stat().st_size > 100_000
