"""The API token never appears in logs, Dagster's event log, dlt's state and traces, or the data."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import dagster as dg
import dlt
import pytest

from incident_assets.settings import PIPELINE_NAME
from incident_assets.simulator import Simulator
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import ingest

TOKEN = "fhb-scan-7f3a9c2e-do-not-leak"


def everything_written(result: dg.ExecuteInProcessResult, instance: dg.DagsterInstance, db: Path) -> dict[str, str]:
    """Every place a token could leak to, as text (bytes decoded leniently)."""
    places = {
        "dagster event log": "\n".join(
            dg.serialize_value(entry) for entry in instance.all_logs(result.run_id)
        ),
        "duckdb file": db.read_bytes().decode("latin-1") if db.exists() else "",
    }
    dlt_dir = Path(os.environ["DLT_DATA_DIR"])
    for path in dlt_dir.rglob("*"):
        if path.is_file():
            places[f"dlt file {path.relative_to(dlt_dir)}"] = path.read_bytes().decode("latin-1")
    pipeline = dlt.attach(PIPELINE_NAME)
    places["dlt state"] = repr(pipeline.state)
    if pipeline.last_trace is not None:
        places["dlt trace"] = repr(pipeline.last_trace.asdict())
    return places


@pytest.mark.parametrize("accepted", [True, False], ids=["successful-run", "rejected-token"])
def test_token_appears_nowhere(tmp_path, monkeypatch, caplog, capfd, accepted):
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "incidents.duckdb"
    with Simulator(incidents=50, seed=7, token=TOKEN if accepted else "fhb-another-token") as sim:
        point_project_at(monkeypatch, sim, db)
        monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", TOKEN)
        instance = dg.DagsterInstance.ephemeral()
        result = ingest(raise_on_error=False, instance=instance)
        assert result.success is accepted
        assert all(TOKEN not in json.dumps(vars(e), default=str) for e in sim.request_log)
    out, err = capfd.readouterr()
    places = everything_written(result, instance, db)
    places.update({"captured logs": caplog.text, "stdout": out, "stderr": err})
    assert len(places["dagster event log"]) > 1000  # the scan read something real
    leaks = [name for name, text in places.items() if TOKEN in text]
    assert leaks == []
