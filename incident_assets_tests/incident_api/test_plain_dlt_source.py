"""The dlt source is a plain dlt source: its package imports no Dagster module, and
`dlt.pipeline(...).run(incident_api_source(...))` loads what the API serves, no Dagster involved."""

from __future__ import annotations

import subprocess
import sys

import dlt
import duckdb

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.incident_api.source import incident_api_source
from incident_assets.simulator import DEFAULT_TOKEN, Simulator

# every module of the source's package, then what Python holds of Dagster
IMPORT_PROBE = """
import importlib, pkgutil, sys
import incident_assets.incident_api as package
names = sorted(m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + "."))
for name in names:
    importlib.import_module(name)
print(len(names))
print(" ".join(sorted(n for n in sys.modules if n.split(".")[0].startswith("dagster"))))
"""


def test_the_source_package_imports_no_dagster_module():
    done = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    modules, dagster_modules = done.stdout.split("\n")[:2]
    assert int(modules) >= 12  # source, endpoints, http, pacing, columnar, ...: the walk found them
    assert dagster_modules == ""


def test_a_plain_dlt_pipeline_loads_every_endpoint(tmp_path):
    with Simulator(incidents=40, seed=11) as sim:
        pipeline = dlt.pipeline(
            pipeline_name="plain_incident_api",
            destination=dlt.destinations.duckdb(str(tmp_path / "plain.duckdb")),
            dataset_name="raw",
            pipelines_dir=str(tmp_path / "dlt"),
        )
        info = pipeline.run(incident_api_source(base_url=sim.base_url, api_token=DEFAULT_TOKEN))
        expected = {e.name: sim.count(e.name) for e in ENDPOINTS}
        milestones = sum(len(i["milestones"]) for i in sim.records("incidents"))
    assert not info.has_failed_jobs
    with duckdb.connect(str(tmp_path / "plain.duckdb"), read_only=True) as con:
        counts = {name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in expected}
        loaded_milestones = con.execute("select count(*) from raw.incidents__milestones").fetchone()[0]
    assert counts == expected
    assert expected["incidents"] == 40
    assert loaded_milestones == milestones
