"""One broken endpoint neither hangs the run nor takes the others down.

Each failure is reproduced on the simulator over real HTTP, loaded into a real DuckDB file.
The run ends red (see incident_api/assets.py), within seconds; every other endpoint's table
is complete; the broken endpoint is not materialized and carries the reason.
"""

from __future__ import annotations

import time

import dagster as dg
import pytest
from dagster_dlt import DagsterDltResource

from incident_assets.definitions import defs
from incident_assets.incident_api.assets import incident_api_assets
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.reliability.assets import reliability_assets
from incident_assets.simulator import FaultConfig
from incident_assets_tests.ingestion import failure_message, ingest, query, row_counts

# a run that could hang would take minutes; a healthy one takes seconds
NO_HANG_SECONDS = 60


def key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["incident_api", name])


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}


def observation(instance: dg.DagsterInstance, name: str) -> dg.AssetObservation:
    (record,) = instance.fetch_observations(key(name), limit=1).records
    return record.asset_observation


def timed_ingest(instance: dg.DagsterInstance, **kwargs) -> dg.ExecuteInProcessResult:
    started = time.monotonic()
    result = ingest(raise_on_error=False, instance=instance, **kwargs)
    assert time.monotonic() - started < NO_HANG_SECONDS
    return result


@pytest.mark.parametrize(
    "faults, broken, status, reason",
    [
        pytest.param(FaultConfig(forbidden_path="alerts"), "alerts", 403,
                     "HTTP 403 Forbidden for GET /v1/alerts: the API token, or the account's plan, "
                     "may not read `alerts`", id="403"),
        pytest.param(FaultConfig(single_object_path="webhooks"), "webhooks", None,
                     "/v1/webhooks answered JSON without a `data` field: one object", id="single-object"),
        pytest.param(FaultConfig(ignore_page_path="incidents"), "incidents", None,
                     "/v1/incidents answered page 2 with pagination", id="server-ignores-page"),
        pytest.param(FaultConfig(negative_next_path="teams"), "teams", None,
                     "`next` is not a page number", id="negative-next"),
        pytest.param(FaultConfig(backwards_cursor_path="users"), "users", None,
                     "`next` does not come after the page asked for (2)", id="backwards-next"),
        pytest.param(FaultConfig(non_json_path="services"), "services", None,
                     "/v1/services answered a body that is not JSON", id="not-json-past-retries"),
    ],
)
def test_one_broken_endpoint_leaves_the_others_loaded(project, duckdb_path, monkeypatch, faults, broken, status, reason):
    sim = project
    # small pages so paging faults show on every endpoint that has a second page
    monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "10")
    monkeypatch.setenv("SOURCES__INCIDENT_API__MAX_RETRIES", "1")
    sim.set_faults(faults)
    with dg.DagsterInstance.ephemeral() as instance:
        result = timed_ingest(instance)
        assert not result.success
        message = failure_message(result)
        assert f"1 endpoint(s) not loaded (`{broken}`)" in message and reason in message
        others = {e.name for e in ENDPOINTS} - {broken}
        assert materialized(result) == others
        assert row_counts(duckdb_path) == {name: sim.count(name) for name in others}
        seen = observation(instance, broken)
        assert reason in seen.description
        assert seen.metadata["http_status"].value == (status if status else "none")
        logs = [e.user_message for e in instance.all_logs(result.run_id)]
        assert any(f"endpoint `{broken}` not loaded" in m for m in logs)


def test_a_broken_endpoint_keeps_its_earlier_table(project, duckdb_path):
    ingest()
    before = query(duckdb_path, "select count(*) from incident_api.webhooks")
    project.set_faults(FaultConfig(forbidden_path="webhooks"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = timed_ingest(instance)
    assert not result.success and "webhooks" not in materialized(result)
    # a `replace` endpoint that yields nothing would be emptied: the failed one is left out
    assert query(duckdb_path, "select count(*) from incident_api.webhooks") == before


def test_two_broken_endpoints_and_the_rest_still_load(project, duckdb_path):
    sim = project
    sim.set_faults(FaultConfig(forbidden_path="alerts", single_object_path="priorities"))
    with dg.DagsterInstance.ephemeral() as instance:
        result = timed_ingest(instance)
    assert "2 endpoint(s) not loaded" in failure_message(result)
    others = {e.name for e in ENDPOINTS} - {"alerts", "priorities"}
    assert row_counts(duckdb_path) == {name: sim.count(name) for name in others}


def test_global_errors_still_fail_at_once(project, duckdb_path, monkeypatch):
    monkeypatch.setenv("SOURCES__INCIDENT_API__BASE_URL", project.base_url.removesuffix("/v1") + "/v2")
    project.clear_log()
    with dg.DagsterInstance.ephemeral() as instance:
        result = timed_ingest(instance)
    message = failure_message(result)
    assert "HTTP 404" in message and "SOURCES__INCIDENT_API__BASE_URL" in message
    assert "not loaded" not in message
    assert row_counts(duckdb_path) == {}


def test_reports_that_do_not_read_the_broken_table_are_computed(project, duckdb_path):
    """The run loads all but webhooks and ends red; Dagster skips the report step of that run
    (it waits on every table it reads); the automation sensor's next evaluation asks for every
    report whose inputs are loaded, and that run computes them."""
    sim = project
    sim.set_faults(FaultConfig(forbidden_path="webhooks"))
    resources = {"dlt": DagsterDltResource()}
    with dg.DagsterInstance.ephemeral() as instance:
        started = time.monotonic()
        first = dg.materialize([incident_api_assets, reliability_assets], resources=resources,
                               instance=instance, raise_on_error=False)
        assert time.monotonic() - started < NO_HANG_SECONDS
        assert not first.success
        assert {k.path[0] for k in map(lambda e: e.asset_key, first.get_asset_materialization_events())} == {"incident_api"}

        requested = dg.evaluate_automation_conditions(defs=defs, instance=instance).get_requested_asset_keys()
        reports = {k for k in requested if k.path[0] == "reliability"}
        assert dg.AssetKey(["reliability", "incident_facts"]) in reports
        assert dg.AssetKey(["reliability", "catalog_health"]) not in reports  # reads webhooks
        second = dg.materialize([incident_api_assets, reliability_assets], resources=resources,
                                instance=instance, selection=sorted(reports))
        assert second.success
    (facts,) = query(duckdb_path, "select count(*) from reliability.incident_facts")
    assert facts[0] == sim.count("incidents")
