"""`archived=true` read both ways the API's documentation allows: archived incidents plus the
active ones (the simulator's default), or archived ones only (`Simulator(archived_only=True)`).
The full load, the incremental load and the new-incident sensor see every incident either way."""

from __future__ import annotations

import time

import pytest

from incident_assets.defs.incident_api.sensors import count_incidents_changed_since
from incident_assets.simulator import Simulator
from incident_assets.simulator.__main__ import parse_args
from incident_assets.simulator.common import iso
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import ingest, query

INCIDENTS = ["incident_api/incidents"]


@pytest.fixture(params=[False, True], ids=["archived-plus-active", "archived-only"])
def reading(request, monkeypatch, duckdb_path):
    with Simulator(incidents=300, seed=7, archived_only=request.param) as sim:
        point_project_at(monkeypatch, sim, duckdb_path)
        monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "50")
        yield sim, request.param


def stored_ids(db) -> list[str]:
    return [r[0] for r in query(db, "select id from incident_api.incidents order by id")]


def incident_requests(sim) -> list[dict]:
    return [e.query for e in sim.request_log if e.path == "/v1/incidents"]


def test_every_incident_is_loaded_under_either_reading(reading, duckdb_path):
    sim, archived_only = reading
    everything = sorted(i["id"] for i in sim.records("incidents"))
    archived = sum(1 for i in sim.records("incidents") if i["discarded_at"])
    assert (len(everything), archived) == (300, 1)

    # full load: two one-record probes, then the list(s) the reading needs
    sim.clear_log()
    ingest(INCIDENTS)
    assert stored_ids(duckdb_path) == everything
    asked = incident_requests(sim)
    assert [q["per_page"] for q in asked[:2]] == ["1", "1"]
    lists = [q.get("archived") for q in asked[2:] if q.get("page", "1") == "1"]
    assert lists == (["true", None] if archived_only else ["true"])

    # incremental: a new incident and a resolved one, both active
    sim.clear_log()
    new = sim.add_incident()
    open_one = next(i for i in sim.records("incidents")
                    if not i["discarded_at"] and all(m["type"] != "resolved" for m in i["milestones"]))
    sim.resolve_incident(open_one["id"])
    ingest(INCIDENTS)
    assert stored_ids(duckdb_path) == sorted(everything + [new["id"]])
    assert query(duckdb_path, "select count(*) from incident_api.incidents i join incident_api.incidents__milestones m "
                              f"on m._dlt_parent_id = i._dlt_id where i.id = '{open_one['id']}' "
                              "and m.type = 'resolved'") == [(1,)]
    # only what changed came back (two incidents), under either reading
    served = [q for q in incident_requests(sim) if q.get("per_page") != "1"]
    assert all("updated_after" in q for q in served)


def test_the_sensor_sees_an_active_change_under_either_reading(reading):
    sim, _ = reading
    assert count_incidents_changed_since("2099-01-01T00:00:00.000Z") == 0
    sim.clear_log()
    assert count_incidents_changed_since("2000-01-01T00:00:00.000Z") == 300
    # two one-record requests a tick, whatever the reading
    assert [(q.get("archived"), q["per_page"]) for q in incident_requests(sim)] == [("true", "1"), (None, "1")]
    since = iso(int(time.time() * 1000) - 1000)
    sim.add_incident()  # active
    assert count_incidents_changed_since(since) == 1


def test_the_simulator_cli_switch():
    assert parse_args(["--archived-only"]).archived_only is True
    assert parse_args([]).archived_only is False
