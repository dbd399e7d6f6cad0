"""Ingestion end to end: simulator over HTTP → dlt → DuckDB file, through Dagster's `materialize`."""

from __future__ import annotations

import logging

import dagster as dg

from incident_assets.destination import current_destination
from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.incident_api.column_docs import COLUMN_DOCS
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets_tests.ingestion import (
    failure_message,
    ingest,
    query,
    row_counts,
    table_contents,
    tables,
)


def test_materialize_everything_loads_what_the_api_serves(project, duckdb_path):
    sim = project
    instance = dg.DagsterInstance.ephemeral()
    result = ingest(instance=instance)

    assert row_counts(duckdb_path) == {e.name: sim.count(e.name) for e in ENDPOINTS}
    for e in ENDPOINTS:
        key = e.primary_key
        dupes = query(
            duckdb_path,
            f"select count(*) - count(distinct {key}) from incident_api.{e.name}",
        )
        assert dupes == [(0,)], e.name
    incidents = sim.records("incidents")
    assert query(duckdb_path, "select count(*) from incident_api.incidents__milestones") == [
        (sum(len(i["milestones"]) for i in incidents),)
    ]
    assert query(duckdb_path, "select count(*) from incident_api.incidents__services") == [
        (sum(len(i["services"]) for i in incidents),)
    ]
    archived = sum(1 for i in incidents if i["discarded_at"])
    assert archived > 0
    assert query(
        duckdb_path, "select count(*) from incident_api.incidents where discarded_at is not null"
    ) == [(archived,)]
    # every asset reports its table's rows and the load it came from
    mats = {
        ev.asset_key.to_user_string(): ev.event_specific_data.materialization.metadata
        for ev in result.get_asset_materialization_events()
    }
    assert set(mats) == {f"incident_api/{e.name}" for e in ENDPOINTS}
    assert mats["incident_api/incidents"]["dagster/row_count"].value == sim.count("incidents")
    assert mats["incident_api/incidents"]["rows_loaded"].value >= sim.count("incidents")
    assert len(mats["incident_api/incidents"]["dlt_load_ids"].value) == 1
    columns = {c.name: c for c in mats["incident_api/incidents"]["dagster/column_schema"].value.columns}
    assert {"id", "number", "severity", "started_at", "discarded_at"} <= set(columns)
    # read like the report assets: described columns (child tables too), dlt's load info as text
    assert columns["started_at"].description == COLUMN_DOCS["incidents"]["started_at"]
    assert columns["started_at"].type == "timestamp"
    milestones = {c.name: c for c in mats["incident_api/incidents"]["incidents__milestones"].value.columns}
    assert milestones["occurred_at"].description == "when the milestone was reached"
    load = mats["incident_api/incidents"]["dlt_load"].value
    load_id = mats["incident_api/incidents"]["dlt_load_ids"].value[0]
    assert load.startswith(f"Loaded by dlt into duckdb, dataset incident_api, ") and f"Load id {load_id}." in load
    assert "| load job | file format | state | size (KB) | seconds |" in load and "| incidents | parquet | completed |" in load
    assert not {"jobs", "destination_type", "first_run", "started_at"} & set(mats["incident_api/incidents"])
    # the source logs through Python's logging; the asset forwards it to the run's log, once
    teams = sim.count("teams")
    logged = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.INFO]
    assert logged.count(f"GET /v1/teams: {teams:,} rows in 1 page, done") == 1


def test_ingestion_specs_hold_no_python_objects_and_plain_descriptions():
    for spec in incident_api_assets.specs:
        assert not [k for k in spec.metadata if k.startswith("dagster_dlt/")], spec.key
        assert "`" not in spec.description, spec.description
    spec = next(s for s in incident_api_assets.specs if s.key.path[-1] == "incidents")
    assert spec.description.startswith("GET /v1/incidents → incident_api.incidents. Incidents, archived ones")
    declared = {c.name: c for c in spec.metadata["dagster/column_schema"].columns}
    assert declared["incident_url"].description == "link to the incident in the incident tool"
    assert declared["number"].type == "bigint"


def test_second_run_merges_and_picks_up_changes(project, duckdb_path):
    sim = project
    ingest()
    open_incident = next(i for i in sim.records("incidents") if not any(
        m["type"] == "resolved" for m in i["milestones"]
    ))
    sim.resolve_incident(open_incident["id"])
    ingest()

    assert row_counts(duckdb_path) == {e.name: sim.count(e.name) for e in ENDPOINTS}
    assert query(
        duckdb_path,
        "select count(*) - count(distinct id) from incident_api.incidents",
    ) == [(0,)]
    resolved = query(
        duckdb_path,
        "select count(*) from incident_api.incidents i join incident_api.incidents__milestones m "
        f"on m._dlt_parent_id = i._dlt_id where i.id = '{open_incident['id']}' and m.type = 'resolved'",
    )
    assert resolved == [(1,)]


def child_ids(db, table: str, incident_id: str) -> list[str]:
    return [r[0] for r in query(
        db,
        f"select c.id from incident_api.incidents i join incident_api.{table} c "
        f"on c._dlt_parent_id = i._dlt_id where i.id = '{incident_id}' order by c._dlt_list_idx",
    )]


def test_a_changed_incident_replaces_its_child_rows_even_when_a_list_empties(project, duckdb_path):
    sim = project
    ingest()
    emptied, moved = [i for i in sim.records("incidents") if i["services"] and i["milestones"]][:2]
    sim.set_fields("incidents", emptied["id"], services=[], milestones=[])
    sim.set_fields("incidents", moved["id"], services=emptied["services"])
    ingest()

    assert child_ids(duckdb_path, "incidents__services", emptied["id"]) == []
    assert child_ids(duckdb_path, "incidents__milestones", emptied["id"]) == []
    assert child_ids(duckdb_path, "incidents__services", moved["id"]) == [s["id"] for s in emptied["services"]]
    assert child_ids(duckdb_path, "incidents__milestones", moved["id"]) == [m["id"] for m in moved["milestones"]]
    incidents = sim.records("incidents")
    for table, field in (("incidents__services", "services"), ("incidents__milestones", "milestones")):
        assert query(duckdb_path, f"select count(*) from incident_api.{table}") == [
            (sum(len(i[field]) for i in incidents),)
        ]
        # the tombstones that cleared the emptied lists delete rows, they never land
        assert query(duckdb_path, f"select count(*) from incident_api.{table} where _dlt_deleted") == [(0,)]


def test_an_older_nested_layout_is_named_and_drop_and_reload_rebuilds_it(project, duckdb_path):
    # what loads before the Arrow path left behind: incident lists as dlt *nested* tables
    current_destination().pipeline().run(
        [{"id": "old-1", "milestones": [{"id": "m-1", "type": "started"}]}],
        table_name="incidents", write_disposition="merge", primary_key="id",
        loader_file_format="parquet",
    )
    message = failure_message(ingest(selection=["incident_api/incidents"], raise_on_error=False))
    assert message.startswith("`incidents__milestones` in this destination is a dlt nested table")
    assert "drop_and_reload: true" in message
    assert query(duckdb_path, "select id from incident_api.incidents") == [("old-1",)]

    ingest(selection=["incident_api/incidents"], run_config={"drop_and_reload": True})
    assert row_counts(duckdb_path) == {"incidents": project.count("incidents")}
    assert query(duckdb_path, "select count(*) from incident_api.incidents__milestones") == [
        (sum(len(i["milestones"]) for i in project.records("incidents")),)
    ]


def test_selecting_one_asset_loads_only_its_table(project, duckdb_path):
    result = ingest(selection=["incident_api/teams"])
    assert [e.asset_key.to_user_string() for e in result.get_asset_materialization_events()] == [
        "incident_api/teams"
    ]
    assert {t.split("__")[0] for t in tables(duckdb_path)} == {"teams"}
    assert row_counts(duckdb_path) == {"teams": project.count("teams")}


def test_missing_token_names_the_key(project, duckdb_path, monkeypatch):
    monkeypatch.delenv("SOURCES__INCIDENT_API__API_TOKEN")
    message = failure_message(ingest(raise_on_error=False))
    assert "SOURCES__INCIDENT_API__API_TOKEN" in message
    assert tables(duckdb_path) == set()


def test_wrong_token_is_a_401_and_keeps_loaded_tables(project, duckdb_path, monkeypatch):
    ingest()
    before = table_contents(duckdb_path)["services"]
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", "fhb-wrong-token-123")
    message = failure_message(ingest(raise_on_error=False))
    assert "HTTP 401" in message and "SOURCES__INCIDENT_API__API_TOKEN" in message
    assert "fhb-wrong-token-123" not in message
    assert table_contents(duckdb_path)["services"] == before


def test_unreachable_base_url_names_the_key(project, duckdb_path, monkeypatch):
    monkeypatch.setenv("SOURCES__INCIDENT_API__BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SOURCES__INCIDENT_API__MAX_RETRIES", "0")
    message = failure_message(ingest(raise_on_error=False))
    assert message.startswith("cannot reach the incident API at http://127.0.0.1:9")
    assert "SOURCES__INCIDENT_API__BASE_URL" in message


def test_wrong_base_url_path_names_status_and_key(project, duckdb_path, monkeypatch):
    monkeypatch.setenv("SOURCES__INCIDENT_API__BASE_URL", project.base_url.removesuffix("/v1") + "/v2")
    message = failure_message(ingest(selection=["incident_api/teams"], raise_on_error=False))
    assert "HTTP 404" in message and "/v2/teams" in message
    assert "SOURCES__INCIDENT_API__BASE_URL" in message
