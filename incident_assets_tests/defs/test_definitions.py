"""The code location as Dagster loads it: assets, lineage, checks, jobs, schedules and sensors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from incident_assets.definitions import defs
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.settings import PROJECT_ROOT

INGESTION_KEYS = {dg.AssetKey(["incident_api", e.name]) for e in ENDPOINTS}

# snapshot of what runs when; change it together with the README's "what runs when"
JOBS = {"__ASSET_JOB", "all_assets_job", "incident_api_incidents_job", "incident_api_ingestion_job"}
SCHEDULES = {"incident_api_daily_ingestion": ("0 5 * * *", "UTC", "incident_api_ingestion_job")}
SENSORS = {
    "automation_condition_sensor": dg.DefaultSensorStatus.RUNNING,
    "incident_api_new_incidents_sensor": dg.DefaultSensorStatus.RUNNING,
    "run_failure_recorder": dg.DefaultSensorStatus.RUNNING,
}


@pytest.fixture(scope="module")
def graph():
    return defs.resolve_asset_graph()


@pytest.fixture(scope="module")
def repo():
    return defs.get_repository_def()


def report_keys(graph) -> set[dg.AssetKey]:
    """The reports as the definitions have them (the reliability system may grow)."""
    return {k for k in graph.get_all_asset_keys() if k.path[0] == "reliability"}


def test_assets_are_the_endpoints_and_the_reports(graph):
    keys = set(graph.get_all_asset_keys())
    assert INGESTION_KEYS <= keys
    assert keys == INGESTION_KEYS | report_keys(graph)


def test_groups_owners_descriptions_and_no_default_group(graph):
    groups = {k: graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert "default" not in set(groups.values())
    assert {k for k, g in groups.items() if g == "incident_api"} == INGESTION_KEYS
    assert {k for k, g in groups.items() if g == "reliability"} == report_keys(graph)
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.description and len(node.description) > 20, key
        assert node.owners, key
        assert node.freshness_policy is not None, f"{key.to_user_string()} has no freshness policy"
    assert graph.get(dg.AssetKey(["incident_api", "incidents"])).owners == ["team:sre-platform"]


def test_lineage_reports_follow_ingestion(graph):
    for key in INGESTION_KEYS:
        node = graph.get(key)
        assert set(node.parent_keys) == set(), key  # no stray upstream stubs
        assert node.automation_condition is None, key  # loads run on the schedule / sensor
    for key in report_keys(graph):
        node = graph.get(key)
        assert node.parent_keys, key
        assert set(node.parent_keys) <= INGESTION_KEYS | report_keys(graph), key
        assert node.automation_condition is not None, key  # eager: follows ingestion
    facts = dg.AssetKey(["reliability", "incident_facts"])
    if facts in report_keys(graph):
        assert dg.AssetKey(["incident_api", "incidents"]) in graph.get(facts).parent_keys


def test_raw_table_checks_cover_every_endpoint(graph):
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    for e in ENDPOINTS:
        assert (f"incident_api/{e.name}", "primary_key_unique_not_null") in checks
        assert (f"incident_api/{e.name}", "column_schema_change") in checks
    assert ("incident_api/incidents", "every_incident_has_started_time") in checks
    assert ("incident_api/incidents", "incident_services_exist") in checks


def test_jobs_schedules_sensors_snapshot(repo, graph):
    assert {j.name for j in repo.get_all_jobs()} == JOBS
    assert {
        s.name: (s.cron_schedule, s.execution_timezone, s.job_name) for s in repo.schedule_defs
    } == SCHEDULES
    assert {s.name: s.default_status for s in repo.sensor_defs} == SENSORS
    ingestion = defs.resolve_job_def("incident_api_ingestion_job")
    assert ingestion.asset_layer.selected_asset_keys == INGESTION_KEYS
    incidents = defs.resolve_job_def("incident_api_incidents_job")
    assert incidents.asset_layer.selected_asset_keys == {dg.AssetKey(["incident_api", "incidents"])}
    everything = defs.resolve_job_def("all_assets_job")
    assert everything.asset_layer.selected_asset_keys == set(graph.get_all_asset_keys())
    automation = repo.get_sensor_def("automation_condition_sensor")
    assert isinstance(automation, dg.AutomationConditionSensorDefinition)
    assert automation.asset_selection.resolve(graph) == set(graph.get_all_asset_keys())


def contract_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what a user's shell would have, plus the contract's variables: no secrets."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        "PATH": f"{venv_bin}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VIRTUAL_ENV": str(Path(venv_bin).parent),
        "DLT_DATA_DIR": str(tmp_path / "dlt"),
        "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "incidents.duckdb"),
        **extra,
    }


def dg_check_defs(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )


def test_dg_check_defs_with_only_the_contract_environment(tmp_path):
    done = dg_check_defs(contract_env(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "All definitions loaded successfully" in done.stdout + done.stderr
    assert not (tmp_path / "incidents.duckdb").exists()  # loading definitions touches no data


def test_dg_check_defs_names_a_bad_schedule_setting(tmp_path):
    done = dg_check_defs(contract_env(tmp_path, INCIDENT_ASSETS_INGEST_CRON="every morning"))
    assert done.returncode != 0
    assert "INCIDENT_ASSETS_INGEST_CRON" in done.stdout + done.stderr


def test_dagster_cli_lists_the_definitions(tmp_path):
    """The plain `dagster` CLI, as `make demo` uses it, loads the module with the contract env."""
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "list", "-m", "incident_assets.definitions"],
        cwd=PROJECT_ROOT, env=contract_env(tmp_path), capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    listed = set(done.stdout.split())
    assert {k.to_user_string() for k in INGESTION_KEYS} <= listed
    assert os.environ.get("SOURCES__INCIDENT_API__API_TOKEN") is None
