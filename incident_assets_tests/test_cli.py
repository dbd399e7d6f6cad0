"""The headless paths users script, with only the contract's environment variables: Dagster's
current CLI (`dg launch`), whose output carries no warning, and the `dagster` CLI the contract
keeps (`dagster asset materialize -m incident_assets.definitions --select '*'`), into a second,
empty DuckDB file that loads everything."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

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


DOCUMENTED_DG_LAUNCH = re.compile(r'^make dg ARGS="launch --assets reliability/mttx_monthly"', re.MULTILINE)


def test_the_documented_dg_launch_runs_on_the_demos_instance_as_of_the_demo(tmp_path):
    """The README's `dg launch` line after `make demo`: its run is in the instance `make dev`
    shows, and the report it rewrites is as of the demo's instant like every other table."""
    home, db = tmp_path / "dagster_home", tmp_path / "incidents.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "DESTINATION__DUCKDB__CREDENTIALS": str(db),
           "INCIDENT_ASSETS_HTML_REPORT": str(tmp_path / "reliability.html"), "SIMULATOR_PORT": "0"}
    for key in ("DLT_DATA_DIR", "SOURCES__INCIDENT_API__BASE_URL", "SOURCES__INCIDENT_API__API_TOKEN",
                "INCIDENT_ASSETS_AS_OF"):
        env.pop(key, None)  # as on a fresh clone
    demo = subprocess.run([sys.executable, "-m", "incident_assets.local", "demo", "--incidents", "200"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout[-3000:]
    line = DOCUMENTED_DG_LAUNCH.search((PROJECT_ROOT / "README.md").read_text())
    assert line, "the README shows the dg launch line"
    done = subprocess.run(line.group(0), shell=True, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert f"(Dagster instance {home})" in done.stderr
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        demo_run, launched = sorted(instance.get_runs(), key=lambda r: instance.get_run_record_by_id(r.run_id).create_timestamp)
        assert launched.status == dg.DagsterRunStatus.SUCCESS
        event = instance.get_latest_materialization_event(dg.AssetKey(["reliability", "mttx_monthly"]))
        assert event.run_id == launched.run_id
        assert event.asset_materialization.metadata["as_of"].value == "2026-11-01T00:00:00+00:00"
        facts = instance.get_latest_materialization_event(dg.AssetKey(["reliability", "incident_facts"]))
        assert facts.run_id == demo_run.run_id
        assert facts.asset_materialization.metadata["as_of"].value == "2026-11-01T00:00:00+00:00"
