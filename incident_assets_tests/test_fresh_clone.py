"""A fresh clone whose settings point elsewhere: the folders the project writes to are made,
not fatal (DuckDB creates a file, never its folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from incident_assets.settings import PROJECT_ROOT
from incident_assets_tests.ingestion import ingest, query


def fresh_clone(into: Path) -> Path:
    """The project's tracked files as they are now (edits included), nothing generated: no
    data/, no .dagster_home/, no dlt working dir."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source, target = PROJECT_ROOT / name, into / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    return into


def test_make_demo_with_dlt_data_dir_elsewhere_on_a_fresh_clone(tmp_path):
    clone = fresh_clone(tmp_path / "clone")
    assert not (clone / "data").exists()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    # the clone's own code, not the editable install's
    env.update({"PYTHONPATH": str(clone), "DLT_DATA_DIR": str(tmp_path / "dlt-elsewhere"), "SIMULATOR_PORT": "0"})
    done = subprocess.run([sys.executable, "-m", "incident_assets.local", "demo", "--incidents", "300"],
                          cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Cannot open file" not in output
    db = clone / "data" / "incidents.duckdb"
    assert query(db, "select count(*) from incident_api.incidents") == [(300,)]
    assert query(db, "select count(*) from reliability.incident_facts") == [(300,)]
    assert (clone / "data" / "reports" / "reliability.html").stat().st_size > 100_000
    assert f"HTML report: {clone / 'data' / 'reports' / 'reliability.html'}" in output


def test_a_duckdb_file_in_a_folder_not_yet_there(project, tmp_path, monkeypatch):
    db = tmp_path / "not" / "yet" / "there.duckdb"
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(db))
    assert ingest(["incident_api/teams"]).success
    assert query(db, "select count(*) from incident_api.teams") == [(project.count("teams"),)]


def test_a_duckdb_folder_that_cannot_be_made_is_named(project, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(blocker / "x.duckdb"))
    result = ingest(["incident_api/teams"], raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.user_failure_data.description
    assert message == (f"cannot create the folder of the DuckDB file {blocker / 'x.duckdb'}: File exists "
                       "(check DESTINATION__DUCKDB__CREDENTIALS)")
    assert isinstance(result, dg.ExecuteInProcessResult)
