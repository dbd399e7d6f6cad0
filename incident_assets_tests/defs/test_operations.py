"""Schedules, sensors and checks, evaluated with Dagster's test utilities against the real parts:
the simulator over HTTP, dlt, and a temp DuckDB file."""

from __future__ import annotations

import inspect
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional, Sequence

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType

from incident_assets.errors import redact
from incident_assets.defs.incident_api import schedules as schedules_module
from incident_assets.defs.incident_api.assets import GROUP, incident_api_assets
from incident_assets.defs.incident_api.checks import (
    PRIMARY_KEY_CHECK,
    SERVICES_CHECK,
    STARTED_CHECK,
    incident_api_checks,
)
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.incident_api.http import NO_API_TOKEN
from incident_assets.incident_api.source import ApiConfig, api_config, incident_api_source
from incident_assets.defs.incident_api.sensors import INCIDENTS_KEY, new_incident_sensor
from incident_assets.simulator import DEFAULT_TOKEN, FaultConfig
from incident_assets.defs.operations.sensors import FAILURE_TAG, RUN_FAILURE_SENSOR_NAME, run_failure_recorder
from incident_assets.defs.resources import project_resources
from incident_assets_tests.ingestion import materialize

INCIDENTS_PATH = "/v1/incidents"


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["incident_api", name])


# ---------------------------------------------------------------- new-incident sensor


def tick(instance: dg.DagsterInstance, cursor: Optional[str]):
    return new_incident_sensor(dg.build_sensor_context(cursor=cursor, instance=instance))


def test_first_tick_requests_a_run_and_sets_the_cursor(project):
    sim = project
    sim.clear_log()
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(instance, None)
    assert [r.asset_selection for r in result.run_requests] == [[INCIDENTS_KEY]]
    assert result.cursor and result.cursor.endswith("Z") and len(result.cursor) == len("2026-01-01T00:00:00.000Z")
    assert sim.request_log == []  # nothing to compare with yet: no request at all


def test_sensor_asks_two_small_questions_and_runs_only_when_an_incident_changed(project):
    sim = project
    with dg.DagsterInstance.ephemeral() as instance:
        cursor = tick(instance, None).cursor

        # nothing changed: no run, two one-record requests (both readings of `archived=true`)
        sim.clear_log()
        quiet = tick(instance, cursor)
        assert quiet.run_requests == []
        assert "no incident changed" in quiet.skip_reason.skip_message
        archived, active = sim.request_log
        assert {(r.method, r.path, r.status) for r in (archived, active)} == {("GET", INCIDENTS_PATH, 200)}
        assert archived.query == {"per_page": "1", "archived": "true", "updated_after": cursor}
        assert active.query == {"per_page": "1", "updated_after": cursor}
        assert quiet.cursor >= cursor

        # an incident changes in the API: exactly one run, of the incidents asset only
        open_incident = next(
            i for i in sim.records("incidents") if not any(m["type"] == "resolved" for m in i["milestones"])
        )
        sim.resolve_incident(open_incident["id"])
        sim.clear_log()
        changed = tick(instance, quiet.cursor)
        assert len(sim.request_log) == 2
        (run_request,) = changed.run_requests
        assert run_request.asset_selection == [INCIDENTS_KEY]
        assert run_request.tags["incident_assets/updated_after"] == quiet.cursor
        assert changed.cursor > quiet.cursor  # the cursor advances


def test_sensor_skips_with_a_token_free_reason_on_api_errors(project, monkeypatch):
    secret = "fhb-sensor-secret-9f8e7d"
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", secret)
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(instance, "2026-01-01T00:00:00.000Z")
    assert isinstance(result, dg.SkipReason)
    assert "HTTP 401" in result.skip_message and "SOURCES__INCIDENT_API__API_TOKEN" in result.skip_message
    assert secret not in result.skip_message

    monkeypatch.setenv("SOURCES__INCIDENT_API__BASE_URL", "http://127.0.0.1:9/v1")
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(instance, "2026-01-01T00:00:00.000Z")
    assert isinstance(result, dg.SkipReason)
    assert "cannot reach the incident API at http://127.0.0.1:9" in result.skip_message
    assert secret not in result.skip_message


def test_sensor_reads_the_sources_own_configuration(project, monkeypatch):
    """The base URL and token are `incident_api_source`'s arguments, resolved by dlt: the same
    keys (the source's own section too), the same default, the same message without a token."""
    monkeypatch.delenv("SOURCES__INCIDENT_API__BASE_URL")
    assert api_config().base_url == inspect.signature(incident_api_source).parameters["base_url"].default
    monkeypatch.setenv("SOURCES__INCIDENT_API__INCIDENT_API__BASE_URL", f"{project.base_url}/")
    assert api_config() == ApiConfig(base_url=project.base_url, api_token=DEFAULT_TOKEN)

    monkeypatch.delenv("SOURCES__INCIDENT_API__API_TOKEN")
    assert api_config().api_token is None
    with dg.DagsterInstance.ephemeral() as instance:
        result = tick(instance, "2026-01-01T00:00:00.000Z")
    assert isinstance(result, dg.SkipReason)
    assert NO_API_TOKEN in result.skip_message
    assert project.request_log == []  # refused before any request


def test_sensor_refuses_a_negative_count_with_a_log_line_and_no_run(project):
    project.set_faults(FaultConfig(negative_count_path="incidents"))
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(cursor="2026-01-01T00:00:00.000Z", instance=instance)
        result = new_incident_sensor(context)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == (
        "could not check the incident API for changes: GET /v1/incidents answered "
        "pagination.count=-307061230, which is not a number of incidents: no run requested"
    )


# ---------------------------------------------------------------- schedule


def test_daily_schedule_targets_the_ingestion_group_at_the_configured_time(monkeypatch):
    schedule = schedules_module.daily_ingestion_schedule
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 5 * * *", "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    defs = dg.Definitions(
        assets=[incident_api_assets], schedules=[schedule], resources=project_resources()
    )
    job = defs.resolve_job_def(schedule.job_name)
    assert job.asset_layer.selected_asset_keys == {key(e.name) for e in ENDPOINTS}
    assert {job.asset_layer.asset_graph.get(k).group_name for k in job.asset_layer.selected_asset_keys} == {GROUP}

    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 3, 2, 5, 0, tzinfo=timezone.utc)
        )
        data = schedule.evaluate_tick(context)
    (request,) = data.run_requests
    assert request.tags["dagster/schedule_name"] == "incident_api_daily_ingestion"

    monkeypatch.setenv("INCIDENT_ASSETS_INGEST_CRON", "30 6 * * 1-5")
    monkeypatch.setenv("INCIDENT_ASSETS_TIMEZONE", "Europe/Berlin")
    custom = schedules_module.build_daily_ingestion_schedule()
    assert (custom.cron_schedule, custom.execution_timezone) == ("30 6 * * 1-5", "Europe/Berlin")

    monkeypatch.setenv("INCIDENT_ASSETS_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="INCIDENT_ASSETS_TIMEZONE"):
        schedules_module.build_daily_ingestion_schedule()


# ---------------------------------------------------------------- raw-table checks


def run_with_checks(
    instance: dg.DagsterInstance, checks_only: bool = False, raise_on_error: bool = True
) -> dg.ExecuteInProcessResult:
    """Ingestion plus every raw check, or the checks alone (over what is already loaded)."""
    return materialize(
        [incident_api_assets, *incident_api_checks],
        instance=instance,
        selection=dg.AssetSelection.checks(*incident_api_checks) if checks_only else None,
        raise_on_error=raise_on_error,
    )


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()
    }


def execute(db: Path, *statements: str) -> None:
    with duckdb.connect(str(db)) as con:
        for statement in statements:
            con.execute(statement)


@pytest.fixture
def loaded(project, duckdb_path):
    """A clean ingestion with its checks, and the instance that recorded it."""
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_with_checks(instance)
        yield instance, result


def unknown_service_refs(sim) -> tuple[int, set[str]]:
    """What the simulator serves: incident services missing from /services (the seed has a few)."""
    known = {s["id"] for s in sim.records("services")}
    refs = [s["id"] for i in sim.records("incidents") for s in i["services"] if s["id"] not in known]
    return len(refs), set(refs)


def test_raw_checks_pass_after_a_clean_load(loaded, project):
    _, result = loaded
    found = evaluations(result)
    expected = {(f"incident_api/{e.name}", PRIMARY_KEY_CHECK) for e in ENDPOINTS} | {
        ("incident_api/incidents", STARTED_CHECK),
        ("incident_api/incidents", SERVICES_CHECK),
    } | {(f"incident_api/{e.name}", "column_schema_change") for e in ENDPOINTS}
    assert set(found) == expected
    # the simulator, like the real API, names a few services its catalog no longer lists: a
    # data problem, reported as a WARN; every other check passes
    refs, ghosts = unknown_service_refs(project)
    assert refs > 0
    failed = {k: e for k, e in found.items() if not e.passed}
    assert set(failed) == {("incident_api/incidents", SERVICES_CHECK)}
    services = failed[("incident_api/incidents", SERVICES_CHECK)]
    assert services.severity == dg.AssetCheckSeverity.WARN
    assert services.metadata["unknown_service_refs"].value == refs
    assert set(services.metadata["unknown_service_sample"].value) == set(sorted(ghosts)[:5])
    assert not result.get_asset_check_evaluations() or all(
        e.passed or e.severity == dg.AssetCheckSeverity.WARN for e in result.get_asset_check_evaluations()
    )
    incidents_pk = found[("incident_api/incidents", PRIMARY_KEY_CHECK)]
    assert incidents_pk.metadata["rows"].value == project.count("incidents")
    assert incidents_pk.metadata["duplicate_keys"].value == 0
    assert incidents_pk.metadata["null_keys"].value == 0


def test_duplicate_key_fails_with_error_severity(loaded, duckdb_path):
    instance, _ = loaded
    (some_id,) = duckdb.connect(str(duckdb_path), read_only=True).execute(
        "select id from incident_api.users order by id limit 1"
    ).fetchone()
    execute(duckdb_path, f"insert into incident_api.users select * from incident_api.users where id = '{some_id}'")

    result = run_with_checks(instance, checks_only=True, raise_on_error=False)
    found = evaluations(result)
    users = found[("incident_api/users", PRIMARY_KEY_CHECK)]
    assert not users.passed
    assert users.severity == dg.AssetCheckSeverity.ERROR
    assert users.metadata["duplicate_keys"].value == 1
    assert users.metadata["null_keys"].value == 0
    assert users.metadata["duplicate_key_sample"].value == [some_id]
    assert "1 duplicate `id`" in users.description
    # the other key checks are untouched
    assert all(e.passed for (asset, check), e in found.items() if check == PRIMARY_KEY_CHECK and asset != "incident_api/users")


def test_null_key_fails_with_error_severity(loaded, duckdb_path):
    instance, _ = loaded
    # the raw table declares the key NOT NULL; a broken load (or hand edit) could still lose it
    execute(
        duckdb_path,
        "alter table incident_api.priorities alter column slug drop not null",
        "update incident_api.priorities set slug = null where slug = (select min(slug) from incident_api.priorities)",
    )
    result = run_with_checks(instance, checks_only=True, raise_on_error=False)
    priorities = evaluations(result)[("incident_api/priorities", PRIMARY_KEY_CHECK)]
    assert not priorities.passed and priorities.severity == dg.AssetCheckSeverity.ERROR
    assert priorities.metadata["null_keys"].value == 1
    assert "1 null `slug`" in priorities.description


def test_missing_table_after_a_load_fails_with_error_severity(loaded, duckdb_path):
    instance, _ = loaded
    execute(duckdb_path, "drop table incident_api.teams__memberships", "drop table incident_api.teams")
    result = run_with_checks(instance, checks_only=True, raise_on_error=False)
    teams = evaluations(result)[("incident_api/teams", PRIMARY_KEY_CHECK)]
    assert not teams.passed and teams.severity == dg.AssetCheckSeverity.ERROR
    assert "missing" in teams.description
    assert teams.metadata["table_exists"].value is False


def test_unknown_service_and_missing_start_warn(loaded, duckdb_path, project):
    instance, _ = loaded
    ghost_refs, ghosts = unknown_service_refs(project)
    (service_id, refs) = duckdb.connect(str(duckdb_path), read_only=True).execute(
        "select id, count(*) from incident_api.incidents__services group by id order by count(*) desc, id limit 1"
    ).fetchone()
    (incident_id, dlt_id) = duckdb.connect(str(duckdb_path), read_only=True).execute(
        "select id, _dlt_id from incident_api.incidents order by id limit 1"
    ).fetchone()
    execute(
        duckdb_path,
        f"delete from incident_api.services where id = '{service_id}'",
        f"update incident_api.incidents set started_at = null where id = '{incident_id}'",
        f"delete from incident_api.incidents__milestones where _dlt_parent_id = '{dlt_id}' and type = 'started'",
    )
    result = run_with_checks(instance, checks_only=True, raise_on_error=False)
    found = evaluations(result)

    services = found[("incident_api/incidents", SERVICES_CHECK)]
    assert not services.passed and services.severity == dg.AssetCheckSeverity.WARN
    assert services.metadata["unknown_services"].value == len(ghosts) + 1
    assert services.metadata["unknown_service_refs"].value == ghost_refs + refs
    assert service_id in services.metadata["unknown_service_sample"].value or len(ghosts) >= 5

    started = found[("incident_api/incidents", STARTED_CHECK)]
    assert not started.passed and started.severity == dg.AssetCheckSeverity.WARN
    assert started.metadata["incidents_without_start"].value == 1
    assert started.metadata["sample_ids"].value == [incident_id]
    # a WARN is not a broken load: the key checks still pass, so nothing downstream is blocked
    assert found[("incident_api/incidents", PRIMARY_KEY_CHECK)].passed
    assert found[("incident_api/services", PRIMARY_KEY_CHECK)].passed


# ---------------------------------------------------------------- run-failure sensor


def failure_context(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult):
    run = instance.get_run_by_id(result.run_id)
    (record,) = instance.get_records_for_run(run_id=run.run_id, of_type=DagsterEventType.RUN_FAILURE).records
    return dg.build_run_status_sensor_context(
        sensor_name=RUN_FAILURE_SENSOR_NAME,
        dagster_event=record.event_log_entry.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()


def failure_observations(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> dict[str, dg.AssetObservation]:
    found = {}
    for k in keys:
        records = instance.fetch_observations(k, limit=1).records
        if records:
            found[k.to_user_string()] = records[0].asset_observation
    return found


def test_failed_ingestion_is_recorded_on_its_assets_without_the_token(project, monkeypatch):
    secret = "fhb-wrong-token-4b5c6d"
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", secret)
    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize(
            [incident_api_assets], instance=instance, raise_on_error=False
        )
        assert not result.success
        run_failure_recorder(failure_context(instance, result))
        keys = [key(e.name) for e in ENDPOINTS]
        observed = failure_observations(instance, keys)

    assert set(observed) == {k.to_user_string() for k in keys}
    incidents = observed["incident_api/incidents"]
    assert incidents.tags[FAILURE_TAG] == "true"
    assert incidents.description.startswith(f"Run {result.run_id[:8]} of job `__ephemeral_asset_job__` failed:")
    assert "HTTP 401" in incidents.description and "SOURCES__INCIDENT_API__API_TOKEN" in incidents.description
    assert incidents.metadata["run"].value == result.run_id
    assert incidents.metadata["failed_steps"].value == ["incident_api_assets"]
    for observation in observed.values():
        assert secret not in observation.description
        assert secret not in str(observation.metadata)


def test_failure_summary_scrubs_a_token_that_leaks_into_an_error(project, monkeypatch):
    secret = "fhb-leaky-token-1a2b3c"
    monkeypatch.setenv("SOURCES__INCIDENT_API__API_TOKEN", secret)

    @dg.asset(key=["incident_api", "leaky"], group_name="incident_api")
    def leaky() -> None:
        raise RuntimeError(f"request failed with headers {{'Authorization': 'Bearer {secret}'}} token={secret}")

    with dg.DagsterInstance.ephemeral() as instance:
        result = materialize([leaky], instance=instance, raise_on_error=False)
        run_failure_recorder(failure_context(instance, result))
        observation = failure_observations(instance, [dg.AssetKey(["incident_api", "leaky"])])["incident_api/leaky"]
    assert "RuntimeError: request failed" in observation.description
    assert secret not in observation.description
    assert "[redacted]" in observation.description


def test_redact_removes_configured_and_token_shaped_secrets():
    text = "Authorization: Bearer abc.def and fhb-0123456789abcdef and my-own-secret"
    cleaned = redact(text, ["my-own-secret"])
    assert cleaned == "Authorization: Bearer [redacted] and [redacted] and [redacted]"
