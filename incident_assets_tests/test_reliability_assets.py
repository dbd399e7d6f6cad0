"""The report multi_asset and the HTML asset under Dagster, on a DuckDB loaded with golden input."""

from __future__ import annotations

import re

import dagster as dg
import pytest

from incident_assets.reliability.assets import reliability_assets, reliability_html_report
from incident_assets.reliability.runner import report_tables
from incident_assets_tests.reliability_inputs import AS_OF_ISO, loaded_destination

RUN_CONFIG = {"ops": {"reliability_assets": {"config": {"as_of": AS_OF_ISO}}}}


@pytest.fixture
def golden_env(tmp_path, monkeypatch):
    dest = loaded_destination("duckdb", tmp_path)
    for key, value in dest.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("INCIDENT_ASSETS_AS_OF", raising=False)
    return dest


def materializations(result: dg.ExecuteInJobResult) -> dict[str, dict]:
    events = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    return {m.asset_key.path[-1]: m.metadata for m in events}


def test_specs_lineage():
    specs = {s.key.to_user_string(): s for s in reliability_assets.specs}
    assert set(specs) == {f"reliability/{t}" for t in report_tables()}
    facts = specs["reliability/incident_facts"]
    assert {d.asset_key.to_user_string() for d in facts.deps} == {"incident_api/incidents"}
    health = {d.asset_key.to_user_string() for d in specs["reliability/catalog_health"].deps}
    assert {"incident_api/environments", "incident_api/services", "incident_api/functionalities",
            "incident_api/teams", "incident_api/webhooks", "reliability/incident_facts"} <= health
    for spec in specs.values():
        assert spec.group_name == "reliability" and spec.owners == ["team:sre-platform"]
        assert spec.kinds == {"sql", "duckdb"} and spec.automation_condition is not None
    assert reliability_assets.can_subset


def test_materialize_all_with_metadata(golden_env):
    result = dg.materialize([reliability_assets], run_config=RUN_CONFIG)
    assert result.success
    meta = materializations(result)
    assert set(meta) == set(report_tables())
    assert meta["incident_facts"]["dagster/row_count"].value == 15
    assert meta["open_incident_backlog"]["dagster/row_count"].value == 3
    assert meta["slo_error_budget"]["dagster/row_count"].value == 4
    assert meta["data_quality_issues"]["dagster/row_count"].value == 6
    preview = meta["mttx_monthly"]["preview"].value
    assert preview.startswith("| month | severity | metric | n | p50_seconds | p90_seconds |")
    assert "| 2024-03 | all | resolve | 2 | 2,400.00 | 3,360.00 |" in preview
    sql = meta["incident_facts"]["sql"].value
    assert sql.startswith("```sql\n") and "reliability_inputs.incidents__milestones" in sql
    assert "2024-03-15 12:00:00+00" in sql and "{{" not in sql
    assert meta["incident_facts"]["as_of"].value == "2024-03-15T12:00:00+00:00"


def test_as_of_from_env(golden_env, monkeypatch):
    monkeypatch.setenv("INCIDENT_ASSETS_AS_OF", "2024-03-10T13:00:00Z")
    result = dg.materialize([reliability_assets], selection="reliability/incident_facts")
    assert result.success
    assert golden_env.query("select distinct as_of from reliability.incident_facts")[0][0].isoformat() \
        == "2024-03-10T13:00:00+00:00"


def test_subset_runs_only_selected(golden_env):
    assert dg.materialize([reliability_assets], run_config=RUN_CONFIG,
                          selection="reliability/incident_facts").success
    result = dg.materialize([reliability_assets], run_config=RUN_CONFIG,
                            selection="reliability/open_incident_backlog")
    assert set(materializations(result)) == {"open_incident_backlog"}
    tables = {r[0] for r in golden_env.query(
        "select table_name from information_schema.tables where table_schema = 'reliability'")}
    assert tables == {"incident_facts", "open_incident_backlog"}


def test_bad_as_of_fails_clearly(golden_env):
    result = dg.materialize([reliability_assets], run_config={"ops": {"reliability_assets": {"config": {
        "as_of": "yesterday"}}}}, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert re.search(r"as_of: 'yesterday' is not an ISO-8601 timestamp", failure.message)


def test_html_report_asset(golden_env, tmp_path):
    assert dg.materialize([reliability_assets], run_config=RUN_CONFIG).success
    path = tmp_path / "out" / "report.html"
    result = dg.materialize([reliability_html_report], run_config={
        "ops": {"reliability__html_report": {"config": {"path": str(path)}}}})
    meta = result.get_asset_materialization_events()[0].event_specific_data.materialization.metadata
    assert meta["path"].value == str(path.resolve()) and path.exists()
