"""One broken endpoint neither hangs the run nor takes the others down.

Each failure is reproduced on the simulator over real HTTP, loaded into a real DuckDB file.
The run ends red (see incident_api/assets.py), within seconds; every other endpoint's table
is complete; the broken endpoint is not materialized and carries the reason; in the same run,
every report that does not read it is built.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import requests

from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.incident_api.http import runaway_reason
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN, FaultConfig
from incident_assets.simulator.__main__ import parse_args
from incident_assets_tests.ingestion import failure_message, ingest, materialize, query, row_counts

# a run that could hang would take minutes; a healthy one takes seconds
NO_HANG_SECONDS = 60
AS_OF = "2026-10-15T00:00:00Z"
BIN = Path(sys.executable).parent


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


@pytest.fixture(autouse=True)
def quick_pages(monkeypatch):
    """Pages of 50 (so paging faults show on a second page), one retry, and no client-side
    throttle: the simulator has no rate limit here, and the run's time is what is measured."""
    monkeypatch.setenv("SOURCES__INCIDENT_API__PER_PAGE", "50")
    monkeypatch.setenv("SOURCES__INCIDENT_API__MAX_RETRIES", "1")
    monkeypatch.setenv("SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS", "0")


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
        pytest.param(FaultConfig(backwards_cursor_path="post_mortems/reports"), "retrospectives", None,
                     "`next` does not come after the page asked for (2)", id="backwards-next"),
        pytest.param(FaultConfig(non_json_path="services"), "services", None,
                     "/v1/services answered a body that is not JSON", id="not-json-past-retries"),
    ],
)
def test_one_broken_endpoint_leaves_the_others_loaded(project, duckdb_path, monkeypatch, faults, broken, status, reason):
    sim = project
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


def run_headless(command: str, sim, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """One run of every asset, as a user starts it (`dg launch --job all_assets_job`, or what
    `make run` runs), into a fresh DuckDB file and Dagster instance; (the process, the file, the
    instance's home)."""
    home, db = tmp_path / f"{command}-home", tmp_path / f"{command}.duckdb"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "deploy" / "dagster.local.yaml").read_text())
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR", "DLT_DATA_DIR")}
    env.update({
        "SOURCES__INCIDENT_API__BASE_URL": sim.base_url, "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
        "SOURCES__INCIDENT_API__PER_PAGE": "50", "SOURCES__INCIDENT_API__MAX_RETRIES": "1",
        "SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS": "0", "SOURCES__INCIDENT_API__RETRY_BACKOFF_FACTOR": "0.1",
        "DESTINATION__DUCKDB__CREDENTIALS": str(db), "INCIDENT_ASSETS_AS_OF": AS_OF,
        "INCIDENT_ASSETS_HTML_REPORT": str(tmp_path / "reliability.html"), "DAGSTER_HOME": str(home),
    })
    args = {"dg launch": [str(BIN / "dg"), "launch", "--job", "all_assets_job"],
            "make run": [sys.executable, "-m", "incident_assets.local", "run"]}[command]
    done = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    return done, db, home


def report_contents(db: Path, tables) -> dict[str, list[tuple]]:
    return {t: query(db, f"select * from reliability.{t} order by all") for t in sorted(tables)}


def same_row(a: tuple, b: tuple) -> bool:
    """Equal, doubles within 1e-9 relative: DuckDB's parallel aggregates may add in another
    order from one run to the next (29058.28075 and 29058.280749999998)."""
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=1e-9) if isinstance(x, float) and isinstance(y, float) else x == y
        for x, y in zip(a, b)
    )


@pytest.fixture
def reference_reports(project, duckdb_path) -> Path:
    """Every report built from a complete load of the same simulator (the right numbers)."""
    result = materialize([incident_api_assets, *report_assets], run_config=report_run_config(as_of=AS_OF))
    assert result.success
    return duckdb_path


REPORTS = {k.path[-1] for a in report_assets for k in a.keys}


@pytest.mark.parametrize("command", ["dg launch", "make run"])
@pytest.mark.parametrize(
    "faults, broken, reason, stale",
    [
        pytest.param(FaultConfig(forbidden_path="alerts"), "alerts",
                     "HTTP 403 Forbidden for GET /v1/alerts", {"alert_noise_weekly"}, id="403-alerts"),
        pytest.param(FaultConfig(stuck_cursor_path="changes/events"), "change_events",
                     "`next` does not come after the page asked for (2)", {"change_failure_monthly"},
                     id="runaway-cursor-change-events"),
    ],
)
def test_a_broken_endpoint_holds_back_only_its_reports_in_the_same_run(
    project, reference_reports, tmp_path, command, faults, broken, reason, stale
):
    """One run: every other raw table loads, every report not reading the broken endpoint is
    built (the same numbers as from a complete load), the run ends red, and its failure names
    the endpoint, the reason and what is left stale; the UI shows why on each stale asset."""
    sim = project
    sim.set_faults(faults)
    done, db, home = run_headless(command, sim, tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    others = {e.name for e in ENDPOINTS} - {broken}
    assert row_counts(db) == {name: sim.count(name) for name in others}
    built = {r[0] for r in query(db, "select table_name from information_schema.tables "
                                     "where table_schema = 'reliability'")}
    assert built == REPORTS - stale
    expected, got = report_contents(reference_reports, built), report_contents(db, built)
    differing = {t: next(((a, b) for a, b in zip(expected[t], got[t]) if not same_row(a, b)),
                         (len(expected[t]), len(got[t])))
                 for t in built
                 if len(got[t]) != len(expected[t]) or not all(map(same_row, expected[t], got[t]))}
    assert differing == {}
    left_stale = ", ".join(sorted(f"reliability/{t}" for t in stale | {"html_report"}))
    assert f"1 endpoint(s) not loaded (`{broken}`)" in output and reason in output
    assert f"Left stale by this run: {left_stale}" in output
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.FAILURE
        assert reason in observation(instance, broken).description
        for table in stale | {"html_report"}:
            (record,) = instance.fetch_observations(dg.AssetKey(["reliability", table]), limit=1).records
            seen = record.asset_observation
            assert seen.description.startswith(f"not refreshed in this run: it reads `{broken}`")
            assert reason in seen.description
            assert instance.get_latest_materialization_event(dg.AssetKey(["reliability", table])) is None
        for table in REPORTS - stale:
            event = instance.get_latest_materialization_event(dg.AssetKey(["reliability", table]))
            assert event is not None and event.run_id == run.run_id


@pytest.mark.parametrize(
    "nxt, asked, fetched, pagination, expected",
    [
        (3, 2, 2, {"last": 5}, None),
        (2, 2, 2, {}, "`next` does not come after the page asked for (2)"),
        (1, 3, 3, {}, "`next` does not come after the page asked for (3)"),
        (0, 1, 1, {}, "`next` is not a page number"),
        (-374332163, 1, 1, {}, "`next` is not a page number"),
        ("2", 1, 1, {}, "`next` is not an integer"),
        (2.0, 1, 1, {}, "`next` is not an integer"),
        (True, 1, 1, {}, "`next` is not an integer"),
        (6, 5, 5, {"last": 5, "pages": 5}, "`next` goes past the last page (5)"),
        (6, 5, 5, {"pages": 5}, "`next` goes past the last page (5)"),
        (100_001, 100_000, 100_000, {}, "100000 pages read, the most this client follows here is 100000"),
        (11, 10, 10, {"last": 1_000_000, "pages": 1}, None),
    ],
)
def test_runaway_cursor_reasons(nxt, asked, fetched, pagination, expected):
    reason = runaway_reason(nxt, asked, fetched, pagination)
    assert reason == expected if expected is None else expected in reason


def test_a_cursor_past_ten_times_the_pages_stops():
    # `pages` known (and `last` absent): at most 10x that many pages are followed
    assert runaway_reason(31, 30, 30, {"pages": 3}) == "`next` goes past the last page (3)"
    assert runaway_reason(3, 2, 30, {"pages": 3}) == "30 pages read, the most this client follows here is 30"


def test_simulator_reproduces_each_fault_over_http(simulator):
    sim = simulator

    def get(path: str, **params) -> requests.Response:
        return requests.get(sim.base_url + path, params={"per_page": 50, **params}, timeout=10,
                            headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})

    sim.set_faults(FaultConfig(ignore_page_path="incidents", backwards_cursor_path="alerts",
                               negative_next_path="teams", forbidden_path="users",
                               single_object_path="/v1/webhooks", negative_count_path="services"))
    ignored = get("/incidents", page=4, archived="true").json()
    assert (ignored["pagination"]["page"], ignored["pagination"]["next"]) == (1, 2)
    assert [get("/alerts", page=p).json()["pagination"]["next"] for p in (1, 2, 3)] == [2, 1, 1]
    assert get("/teams").json()["pagination"]["next"] == -374332163
    forbidden = get("/users")
    assert (forbidden.status_code, forbidden.json()) == (403, {"error": "forbidden"})
    assert get("/webhooks").json() == sim.records("webhooks")[0]
    assert get("/services").json()["pagination"]["count"] == -307061230
    assert get("/environments").json()["pagination"]["next"] is None  # other paths untouched


def test_simulator_cli_flags_name_the_new_faults():
    args = parse_args(["--fault-ignore-page", "incidents", "--fault-backwards-cursor", "alerts",
                       "--fault-negative-next", "teams", "--fault-forbidden", "users",
                       "--fault-single-object", "webhooks", "--fault-negative-count", "incidents"])
    assert (args.fault_ignore_page, args.fault_backwards_cursor, args.fault_negative_next,
            args.fault_forbidden, args.fault_single_object, args.fault_negative_count) == (
        "incidents", "alerts", "teams", "users", "webhooks", "incidents")
