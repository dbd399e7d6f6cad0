"""Dagster's own storage in PostgreSQL: `deploy/dagster.postgres.yaml` as shipped (runs,
event log, schedules), on a real server, with the password from the environment; the data
goes to another PostgreSQL database through the contract's variables."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dagster as dg
import psycopg2
import pytest
import yaml

from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.settings import PROJECT_ROOT
from incident_assets_tests import postgres
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import materialize

INSTANCE_YAML = PROJECT_ROOT / "deploy" / "dagster.postgres.yaml"
SELECTION = ["incident_api/incidents", "incident_api/severities", "reliability/incident_facts"]


def dagster_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, storage_url: str) -> Path:
    """$DAGSTER_HOME holding the shipped dagster.yaml; its `env:` values set as a user would."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCE_YAML, home / "dagster.yaml")
    parts = urlsplit(storage_url)
    monkeypatch.setenv("DAGSTER_PG_USERNAME", unquote(parts.username))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", unquote(parts.password))
    monkeypatch.setenv("DAGSTER_PG_HOST", parts.hostname)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(parts.port))
    monkeypatch.setenv("DAGSTER_PG_DB", unquote(parts.path.lstrip("/")))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_shipped_instance_yaml_keeps_secrets_in_the_environment():
    config = yaml.safe_load(INSTANCE_YAML.read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    assert db["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert all(isinstance(v, dict) and set(v) == {"env"} for k, v in db.items() if k != "scheme")


def test_runs_and_materializations_live_in_postgres(simulator, postgres_server, postgres_url,
                                                     monkeypatch, tmp_path):
    home = dagster_home(tmp_path, monkeypatch, postgres_url)
    data_url = postgres.create_database(postgres_server)
    try:
        point_project_at(monkeypatch, simulator, tmp_path / "unused.duckdb")
        monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", data_url)

        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            result = materialize(
                [incident_api_assets, *report_assets],
                selection=SELECTION,
                run_config=report_run_config(["incident_facts"], as_of="2026-10-20T12:00:00Z"),
                instance=instance,
            )
            assert result.success
            run_id = result.run_id

        # a fresh instance (as the webserver or daemon would be) reads it back from the server
        with dg.DagsterInstance.get() as reader:
            assert type(reader.run_storage).__name__ == "PostgresRunStorage"
            (run,) = reader.get_runs()
            assert run.run_id == run_id and run.status == dg.DagsterRunStatus.SUCCESS
            for key in SELECTION:
                event = reader.get_latest_materialization_event(dg.AssetKey.from_user_string(key))
                assert event is not None and event.run_id == run_id, key
            incidents = reader.get_latest_materialization_event(dg.AssetKey(["incident_api", "incidents"]))
            metadata = incidents.asset_materialization.metadata
            assert metadata["dagster/row_count"].value == simulator.count("incidents")
            assert metadata["dagster/storage_kind"].value == "postgres"

        # the storage really is that database; the data went to the other one
        con = psycopg2.connect(postgres_url)
        try:
            with con.cursor() as cur:
                cur.execute("select count(*) from runs where run_id = %s", (run_id,))
                assert cur.fetchone() == (1,)
                cur.execute("select count(*) from event_logs where run_id = %s "
                            "and dagster_event_type = 'ASSET_MATERIALIZATION'", (run_id,))
                assert cur.fetchone() == (len(SELECTION),)
        finally:
            con.close()
        con = psycopg2.connect(data_url)
        try:
            with con.cursor() as cur:
                cur.execute("select count(*) from incident_api.incidents")
                assert cur.fetchone() == (simulator.count("incidents"),)
                cur.execute("select count(*) from reliability.incident_facts")
                assert cur.fetchone() == (simulator.count("incidents"),)
        finally:
            con.close()
    finally:
        postgres.drop_database(postgres_server, data_url)



def test_helm_values_point_at_this_code_location():
    """Helm itself is not run here (no cluster): only what the values file says is checked."""
    values = yaml.safe_load((PROJECT_ROOT / "deploy" / "helm-values.yaml").read_text())
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "incident_assets.definitions"]
    module = __import__("incident_assets.definitions", fromlist=["defs"])
    assert isinstance(module.defs, dg.Definitions)
    env = {e["name"]: e.get("value") for e in deployment["env"]}
    assert env["INCIDENT_ASSETS_DESTINATION"] == "postgres"
    # secrets only through the k8s Secret, never inline
    assert not any(k.endswith(("TOKEN", "CREDENTIALS", "PASSWORD")) for k in env)
    assert deployment["envSecrets"] and deployment["includeConfigInLaunchedRuns"]["enabled"]
    # run pods use this image: same psycopg2 scheme as deploy/dagster.postgres.yaml
    scheme = yaml.safe_load(INSTANCE_YAML.read_text())["storage"]["postgres"]["postgres_db"]["scheme"]
    assert values["postgresql"]["postgresqlScheme"] == scheme == "postgresql+psycopg2"
