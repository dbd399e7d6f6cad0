"""`make bench --quick` end to end at tiny sizes, on the messy workload: structure of the results,
the variants loading the same rows, per-endpoint throughput read from the server's request log.
No timing assertions: timings belong to `make bench`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main
from benchmarks.table import COLUMNS
from incident_assets.incident_api.endpoints import ENDPOINTS

INCIDENT_TABLES = ("incidents", "incidents__milestones", "incidents__services", "incidents__environments",
                   "incidents__functionalities", "incidents__impacts", "incidents__role_assignments",
                   "incidents__team_assignments", "incidents__tag_list")


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--results-dir", str(out), "--output", "smoke"]) == 0
    return json.loads((out / "smoke.json").read_text()), (out / "smoke.md").read_text()


def test_every_scenario_reports_a_row(results: tuple[dict, str]) -> None:
    data, _ = results
    kinds = [r["kind"] for r in data["rows"]]
    assert kinds == ["ingest", "ingest-baseline", "rss", "ratelimited", "incremental", "incremental",
                     "reports", "reportrun", "defs"]
    for row in data["rows"]:
        assert row["scenario"] and row["target"]
        assert row["project_rss_mb"] > 0
        if row["kind"] != "rss":
            assert row["project_s"] > 0
        assert row["met"] in (True, False, None)
    assert set(data["machine"]) == {"arch", "nproc", "memory_gb", "python", "date"}


def test_markdown_has_the_table_and_the_machine(results: tuple[dict, str]) -> None:
    _, md = results
    assert "| " + " | ".join(COLUMNS) + " |" in md
    assert "Machine:" in md and "CPUs" in md and "Python" in md
    assert "| 300 | incidents | 300 | 2 |" in md  # the per-endpoint table


def test_every_endpoint_has_its_throughput_from_the_request_log(results: tuple[dict, str]) -> None:
    data, _ = results
    (ingest,) = [r for r in data["rows"] if r["kind"] == "ingest"]
    assert list(ingest["endpoints"]) == [e.name for e in ENDPOINTS]  # none left out
    for name, both in ingest["endpoints"].items():
        plain, project = both["plain"], both["project"]
        # the same records in the same pages, from both loaders, none refused
        assert plain["records"] == project["records"] == ingest["row_counts"]["project"][name], name
        assert plain["pages"] == project["pages"] >= 1, name
        assert plain["refused_429"] == project["refused_429"] == 0, name
        for rate in (plain, project):
            assert (rate["records_per_s"] is None) == (rate["pages"] == 1), name
    assert ingest["records"] == sum(both["project"]["records"] for both in ingest["endpoints"].values())


def test_baseline_and_project_load_the_same_rows(results: tuple[dict, str]) -> None:
    data, _ = results
    (ingest,) = [r for r in data["rows"] if r["kind"] == "ingest"]
    baseline, project = ingest["row_counts"]["baseline"], ingest["row_counts"]["project"]
    for table in INCIDENT_TABLES:
        assert baseline[table] > 0, table
        assert baseline[table] == project[table], table
    assert baseline["incidents"] == ingest["size"]
    # open incidents per environment stay one JSON value per change event, not a row each
    assert "change_events__environments" in baseline
    assert "change_events__environments__active_incidents" not in baseline
    assert baseline == project  # the catalogs, change events and their child tables too
    assert all(ingest["rows_match"].values())


def test_the_plain_loader_fetches_the_same_records(results: tuple[dict, str]) -> None:
    data, _ = results
    (ingest,) = [r for r in data["rows"] if r["kind"] == "ingest"]
    plain, project = ingest["plain_row_counts"], ingest["row_counts"]["project"]
    assert plain == {table: project[table] for table in plain}
    assert "incidents" in plain and "alerts" in plain


def test_the_rate_limited_run_is_paced_by_what_the_server_said(results: tuple[dict, str]) -> None:
    data, _ = results
    (limited,) = [r for r in data["rows"] if r["kind"] == "ratelimited"]
    assert limited["requests"] > 10  # the quick run's limit: pacing was needed
    # the requests in flight when the limit was reached, nothing after: at most one per endpoint thread
    assert 1 <= limited["refused_429"] <= 5
    assert limited["refused_429"] == sum(e["refused_429"] for e in limited["endpoints"].values())
    assert limited["closest_window_s"] >= 10.0  # the server never saw the 11th request within 10 s
    assert limited["floor_s"] <= limited["project_s"]  # its bound is checked by test_pacing


def test_incremental_loads_only_the_changed_incidents(results: tuple[dict, str]) -> None:
    data, _ = results
    unchanged, changed = [r for r in data["rows"] if r["kind"] == "incremental"]
    assert unchanged["incidents_loaded"] in ([0], [None])  # dlt reports no row count for an empty table
    assert changed["incidents_loaded"] == changed["incidents_changed"]


def test_reports_ran_over_the_generated_incidents(results: tuple[dict, str]) -> None:
    data, _ = results
    (reports,) = [r for r in data["rows"] if r["kind"] == "reports"]
    assert reports["generated_rows"]["incidents"] == reports["size"]
    assert reports["report_rows"]["incident_facts"] == reports["size"]
    # CPU seconds recorded beside the wall times, for runs on a shared machine
    assert len(reports["runs_cpu_s"]) == len(reports["runs_s"]) and min(reports["runs_cpu_s"]) > 0
    assert len(reports["floor_runs_cpu_s"]) == len(reports["floor_runs_s"]) and min(reports["floor_runs_cpu_s"]) > 0
