"""The headless paths users script, with only the contract's environment variables: Dagster's
current CLI (`dg launch`), whose output carries no warning, and the `dagster` CLI the contract
keeps (`dagster asset materialize -m incident_assets.definitions --select '*'`), into a second,
empty DuckDB file that loads everything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN
from incident_assets_tests.ingestion import query, row_counts

BIN = Path(sys.executable).parent


def dg_launch_everything(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "dg"), "launch", "--job", "all_assets_job"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def dagster_materialize_everything(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize",
         "-m", "incident_assets.definitions", "--select", "*"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_cli_materializes_everything_without_warnings_and_a_new_destination_loads_everything(
    shared_simulator, tmp_path
):
    sim = shared_simulator
    contract_env = {
        "SOURCES__INCIDENT_API__BASE_URL": sim.base_url,
        "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
        "INCIDENT_ASSETS_AS_OF": "2026-10-15T00:00:00Z",
        "INCIDENT_ASSETS_HTML_REPORT": str(tmp_path / "reliability.html"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text((PROJECT_ROOT / "deploy" / "dagster.local.yaml").read_text())
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH")}
    for name, materialize in (("first", dg_launch_everything), ("second", dagster_materialize_everything)):
        db = tmp_path / f"{name}.duckdb"
        done = materialize({**base, **contract_env, "DESTINATION__DUCKDB__CREDENTIALS": str(db)})
        output = done.stdout + done.stderr
        assert done.returncode == 0, output[-3000:]
        assert row_counts(db) == {e.name: sim.count(e.name) for e in ENDPOINTS}
        assert query(db, "select count(*), min(as_of) from reliability.incident_facts")[0][0] == sim.count(
            "incidents"
        )
        # dlt's working dir lives beside each file: no state shared between destinations
        assert (tmp_path / f".{name}.dlt" / "incident_api" / "state.json").exists()
        if name == "first":
            assert "Warning" not in output and "WARNING" not in output, output[:3000]
        else:  # the superseded command still works; dlt has nothing to warn about
            assert "[WARNING]" not in output, output[:3000]
    assert (tmp_path / "reliability.html").stat().st_size > 100_000
