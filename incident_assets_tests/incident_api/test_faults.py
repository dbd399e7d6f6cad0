"""Incremental loading and fault tolerance, through real HTTP to the simulator and real DuckDB.

The reference for "the end state equals that of a clean run" is a clean run of a second
simulator with the same seed (same seed, same bytes) into its own DuckDB file.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

import dagster as dg
import dlt
import pytest

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.settings import PIPELINE_NAME, PROJECT_ROOT
from incident_assets.simulator import FaultConfig, Simulator
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import failure_message, ingest, query, row_counts, table_contents

INCIDENTS = 300


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory) -> dict[str, list[tuple]]:
    db = tmp_path_factory.mktemp("clean") / "incidents.duckdb"
    with Simulator(incidents=INCIDENTS, seed=7) as sim, pytest.MonkeyPatch.context() as mp:
        point_project_at(mp, sim, db)
        ingest()
    return table_contents(db)


def incident_requests(sim: Simulator) -> list:
    """The incident list's pages a load asked for, without its two one-record probes of the
    `archived=true` reading (incident_api/archived.py)."""
    return [e for e in sim.request_log if e.path == "/v1/incidents" and e.query.get("per_page") != "1"]


def test_second_run_with_nothing_changed_asks_one_page_and_changes_nothing(project, duckdb_path):
    ingest()
    before = table_contents(duckdb_path)
    project.clear_log()
    ingest()
    (request,) = incident_requests(project)
    assert "updated_after" in request.query
    assert table_contents(duckdb_path) == before


def test_server_changes_appear_after_the_next_run(project, duckdb_path):
    sim = project
    ingest()
    incidents = sim.records("incidents")
    open_ids = [i["id"] for i in incidents if not any(m["type"] == "resolved" for m in i["milestones"])][:3]
    resolved = next(i for i in incidents if any(m["type"] == "resolved" for m in i["milestones"]))
    for incident_id in open_ids:
        sim.resolve_incident(incident_id)
    sim.edit_milestone(resolved["id"], "started", "2020-01-01T00:00:00.000Z")
    gone = sim.records("services")[0]["id"]
    sim.delete_record("services", gone)
    sim.clear_log()

    ingest()

    (request,) = incident_requests(sim)  # still one page: only the changed incidents
    assert row_counts(duckdb_path) == {e.name: sim.count(e.name) for e in ENDPOINTS}
    assert query(duckdb_path, f"select count(*) from incident_api.services where id = '{gone}'") == [(0,)]
    milestone_sql = (
        "select i.id, m.occurred_at from incident_api.incidents i join incident_api.incidents__milestones m "
        "on m._dlt_parent_id = i._dlt_id where m.type = '{}' and i.id in ({})"
    )
    ids = ", ".join(f"'{i}'" for i in open_ids)
    assert {r[0] for r in query(duckdb_path, milestone_sql.format("resolved", ids))} == set(open_ids)
    (started,) = query(duckdb_path, milestone_sql.format("started", f"'{resolved['id']}'"))
    assert started[1].isoformat().startswith("2020-01-01T00:00:00")
    for table in ("incidents", "incidents__milestones"):
        key = "id" if table == "incidents" else "_dlt_id"
        assert query(duckdb_path, f"select count(*) - count(distinct {key}) from incident_api.{table}") == [(0,)]
    # no orphaned child rows left behind by the merge
    assert query(
        duckdb_path,
        "select count(*) from incident_api.incidents__milestones m left join incident_api.incidents i "
        "on m._dlt_parent_id = i._dlt_id where i.id is null",
    ) == [(0,)]


@pytest.mark.parametrize(
    "faults, env",
    [
        pytest.param(FaultConfig(burst_429=3), {}, id="429-burst-with-retry-after"),
        pytest.param(FaultConfig(burst_5xx=2, every=5), {}, id="5xx-bursts"),
        pytest.param(
            FaultConfig(slow_seconds=1.5, slow_requests=2),
            {"SOURCES__INCIDENT_API__REQUEST_TIMEOUT": "0.5"},
            id="slow-over-timeout",
        ),
        pytest.param(FaultConfig(truncate=3), {}, id="truncated-bodies"),
    ],
)
def test_transient_faults_end_like_a_clean_run(project, duckdb_path, monkeypatch, clean_run, faults, env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    project.set_faults(faults)
    ingest()
    assert table_contents(duckdb_path) == clean_run
    assert any(e.status != 200 for e in project.request_log) or faults.slow_seconds or faults.truncate


def test_load_killed_mid_run_then_rerun_ends_like_a_clean_run(project, duckdb_path, monkeypatch, clean_run):
    # small slow pages, so the kill lands while incidents are being paged
    monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "10")
    project.set_faults(FaultConfig(slow_seconds=0.3))
    child = subprocess.Popen(
        [sys.executable, "-c", "from incident_assets_tests.ingestion import ingest; ingest()"],
        cwd=PROJECT_ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(incident_requests(project)) < 5:
            assert child.poll() is None, "the load finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL
    project.set_faults(None)
    ingest()
    assert table_contents(duckdb_path) == clean_run


@pytest.mark.parametrize(
    "faults, asset, expected",
    [
        pytest.param(
            FaultConfig(stuck_cursor_path="incidents"), "incidents",
            # the second run asks only what changed: one page, which says next=2 all the same
            '/v1/incidents answered page 1 with pagination {"page": 1, "next": 2, "last": 1, '
            '"pages": 1}: `next` goes past the last page (1)',
            id="pagination-loop",
        ),
        pytest.param(
            FaultConfig(data_not_list_path="teams"), "teams",
            "/v1/teams answered `data` as dict, expected a list of records",
            id="data-not-a-list",
        ),
        pytest.param(
            FaultConfig(no_data_path="users"), "users",
            "/v1/users answered JSON without a `data` field",
            id="no-data-field",
        ),
        pytest.param(
            FaultConfig(non_json_path="services"), "services",
            "/v1/services answered a body that is not JSON",
            id="not-json",
        ),
    ],
)
def test_broken_answers_fail_with_a_clear_message_and_keep_loaded_tables(
    project, duckdb_path, monkeypatch, faults, asset, expected
):
    ingest()
    before = table_contents(duckdb_path)
    monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "50")
    monkeypatch.setenv("SOURCES__INCIDENT_API__MAX_RETRIES", "1")
    project.set_faults(faults)
    message = failure_message(ingest(selection=[f"incident_api/{asset}"], raise_on_error=False))
    assert expected in message
    assert table_contents(duckdb_path) == before


def test_rate_limited_api_draws_at_most_a_handful_of_429s(tmp_path, monkeypatch):
    # the API's budget scaled down (10 requests / 1 s) so that a small load needs throttling
    with Simulator(incidents=INCIDENTS, seed=7, rate_limit=True, rate_limit_requests=10,
                   rate_limit_window=1.0) as sim:
        point_project_at(monkeypatch, sim, tmp_path / "incidents.duckdb")
        monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "10")
        monkeypatch.setenv("SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS", "10")
        monkeypatch.setenv("SOURCES__INCIDENT_API__RATE_LIMIT_SECONDS", "1")
        ingest()
        statuses = [e.status for e in sim.request_log]
    assert len(statuses) > 40  # well over the per-window budget
    assert statuses.count(429) <= 3
    assert row_counts(tmp_path / "incidents.duckdb")["incidents"] == sim.count("incidents")


def test_a_field_changing_type_evolves_into_a_variant_column_with_a_warning(project, duckdb_path):
    ingest()
    incident = project.records("incidents")[0]
    project.set_fields("incidents", incident["id"], number=f"INC-{incident['number']}")
    instance = dg.DagsterInstance.ephemeral()
    result = ingest(instance=instance)

    (metadata,) = [
        e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "incident_api/incidents"
    ]
    assert metadata["type_drift_columns"].value == ["incidents.number__v_text"]
    warnings = [
        e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING
    ]
    assert any(w.startswith("type drift: incidents.number__v_text") for w in warnings)
    # the original column keeps its type and its other values; the new value sits beside it
    assert query(
        duckdb_path,
        "select number, number__v_text from incident_api.incidents where id = "
        f"'{incident['id']}'",
    ) == [(None, f"INC-{incident['number']}")]
    assert query(
        duckdb_path, "select count(*) from incident_api.incidents where number is not null"
    ) == [(project.count("incidents") - 1,)]


def incidents_cursor() -> str:
    state = dlt.attach(PIPELINE_NAME).state
    return state["sources"]["incident_api"]["resources"]["incidents"]["updated_after"]


def test_cursor_lives_in_the_destination_so_a_fresh_machine_continues(project, duckdb_path, monkeypatch, tmp_path):
    ingest()
    cursor = incidents_cursor()
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "another-machine"))
    project.clear_log()
    ingest()
    (request,) = incident_requests(project)
    assert request.query["updated_after"] == cursor


def test_full_refresh_and_bounded_backfill_from_run_config(project, duckdb_path):
    ingest()
    first_cursor = incidents_cursor()
    before = table_contents(duckdb_path)

    project.clear_log()
    ingest(run_config={"full_refresh": True})
    assert [r.query.get("updated_after") for r in incident_requests(project)] == [None, None]
    assert table_contents(duckdb_path) == before  # merged: nothing duplicates
    refreshed_cursor = incidents_cursor()
    assert refreshed_cursor > first_cursor  # a full refresh is a complete extraction

    project.clear_log()
    window = {"updated_after": "2026-01-01T00:00:00.000Z", "updated_before": "2026-02-01T00:00:00.000Z"}
    ingest(run_config=window)
    (request,) = incident_requests(project)
    assert {k: request.query[k] for k in window} == window
    (retro,) = [r for r in project.request_log if r.path == "/v1/post_mortems/reports"]
    assert retro.query["updated_since"] == window["updated_after"]
    assert incidents_cursor() == refreshed_cursor  # a window leaves the cursor alone

    project.clear_log()
    ingest()
    (request,) = incident_requests(project)
    assert request.query["updated_after"] == refreshed_cursor


def test_records_before_1970_load_and_records_without_a_key_are_counted(project, duckdb_path):
    sim = project
    old_change = sim.records("change_events")[0]["id"]
    old_retro = sim.records("retrospectives")[0]["id"]
    sim.set_fields("change_events", old_change, starts_at="1965-03-01T12:00:00.000Z")
    sim.set_fields("retrospectives", old_retro, updated_at="1969-12-31T23:59:59.000Z")
    keyless_user = sim.records("users")[0]["id"]
    keyless_incident = sim.records("incidents")[0]["id"]
    sim.set_fields("users", keyless_user, id=None)
    sim.set_fields("incidents", keyless_incident, id=None)
    instance = dg.DagsterInstance.ephemeral()
    result = ingest(instance=instance)

    counts = row_counts(duckdb_path)
    assert counts["change_events"] == sim.count("change_events")
    assert counts["retrospectives"] == sim.count("retrospectives")
    assert query(duckdb_path, f"select starts_at from incident_api.change_events where id = '{old_change}'")[0][0].year == 1965
    # the records without a key are left out, counted in the metadata and the run log
    assert counts["users"] == sim.count("users") - 1
    assert counts["incidents"] == sim.count("incidents") - 1
    metadata = {
        e.asset_key.path[-1]: e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert metadata["users"]["skipped_records"].value == 1
    assert metadata["users"]["skipped_reasons"].value == {"no `id`": 1}
    assert metadata["incidents"]["skipped_reasons"].value == {"no `id`": 1}
    assert metadata["teams"]["skipped_records"].value == 0
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert "endpoint `users`: 1 record(s) left out (1 no `id`)" in warnings
