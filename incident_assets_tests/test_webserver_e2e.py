"""End to end through the real parts: dagster-webserver and dagster-daemon as subprocesses, the
simulator over HTTP, a temp DuckDB file; everything launched and inspected through GraphQL, and
the asset graph looked at in a real (headless) Chromium.

The screenshot lands in `test-artifacts/asset_graph.png` (gitignored).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
import pytest
from dagster_graphql import DagsterGraphQLClient

from incident_assets.definitions import defs
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.reliability.runner import report_tables
from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN, Simulator
from incident_assets_tests.webserver import (
    GraphQL,
    Service,
    free_port,
    make_dagster_home,
    start_daemon,
    start_webserver,
    wait_for_location,
)

pytestmark = pytest.mark.timeout(420)

RUN_TIMEOUT_SECONDS = 240
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
# these would start runs of their own as soon as the daemon is up; the test stops them first
STOPPED_FOR_THE_TEST = {"sensors": ["incident_api_new_incidents_sensor"], "schedules": ["incident_api_daily_ingestion"]}


class Stack:
    def __init__(self, port: int, home: Path, db: Path, sim: Simulator, webserver: Service) -> None:
        self.port, self.home, self.db, self.sim, self.webserver = port, home, db, sim, webserver
        self.gql = GraphQL(port)
        self.client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=60)
        self.daemon: Service | None = None
        self.location = self.repository = ""


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("e2e")
    home = make_dagster_home(root / "dagster_home")
    db = root / "incidents.duckdb"
    services: list[Service] = []
    with Simulator(incidents=300, seed=7) as sim:
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "SOURCES__INCIDENT_API__BASE_URL": sim.base_url,
            "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
            "DESTINATION__DUCKDB__CREDENTIALS": str(db),
            "DLT_DATA_DIR": str(root / "dlt"),
            "INCIDENT_ASSETS_HTML_REPORT": str(root / "reliability.html"),
            "PYTHONUNBUFFERED": "1",
        }
        port = free_port()
        try:
            webserver = start_webserver(port, env, PROJECT_ROOT, root)
            services.append(webserver)
            s = Stack(port, home, db, sim, webserver)
            s.location, s.repository = wait_for_location(s.gql, webserver, timeout=90)
            stop_instigators(s)
            s.daemon = start_daemon(env, PROJECT_ROOT, root)
            services.append(s.daemon)
            yield s
        finally:
            for service in reversed(services):
                service.stop()


def repo_selector(s: Stack) -> dict:
    return {"repositoryLocationName": s.location, "repositoryName": s.repository}


def stop_instigators(s: Stack) -> None:
    """Stops, through GraphQL, the sensor and schedule that would launch runs of their own."""
    sensors = s.gql(
        "query($r: RepositorySelector!) { sensorsOrError(repositorySelector: $r) { "
        "... on Sensors { results { id name sensorState { status } } } } }",
        {"r": repo_selector(s)},
    )["sensorsOrError"]["results"]
    schedules = s.gql(
        "query($r: RepositorySelector!) { schedulesOrError(repositorySelector: $r) { "
        "... on Schedules { results { id name scheduleState { status } } } } }",
        {"r": repo_selector(s)},
    )["schedulesOrError"]["results"]
    by_name = {x["name"]: x for x in sensors + schedules}
    assert by_name["automation_condition_sensor"]["sensorState"]["status"] == "RUNNING"
    assert by_name["run_failure_recorder"]["sensorState"]["status"] == "RUNNING"
    for name in STOPPED_FOR_THE_TEST["sensors"]:
        assert by_name[name]["sensorState"]["status"] == "RUNNING"
        done = s.gql(
            "mutation($id: String) { stopSensor(id: $id) { __typename "
            "... on StopSensorMutationResult { instigationState { status } } "
            "... on PythonError { message } } }",
            {"id": by_name[name]["id"]},
        )["stopSensor"]
        assert done.get("instigationState", {}).get("status") == "STOPPED", done
    for name in STOPPED_FOR_THE_TEST["schedules"]:
        assert by_name[name]["scheduleState"]["status"] == "RUNNING"
        done = s.gql(
            "mutation($id: String) { stopRunningSchedule(id: $id) { __typename "
            "... on ScheduleStateResult { scheduleState { status } } "
            "... on PythonError { message } } }",
            {"id": by_name[name]["id"]},
        )["stopRunningSchedule"]
        assert done.get("scheduleState", {}).get("status") == "STOPPED", done


def expected_keys() -> set[str]:
    return {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}


def expected_edges() -> set[tuple[str, str]]:
    graph = defs.resolve_asset_graph()
    return {
        (k.to_user_string(), p.to_user_string())
        for k in graph.get_all_asset_keys()
        for p in graph.get(k).parent_keys
    }


def wait_for_run(s: Stack, run_id: str) -> dg.DagsterRunStatus:
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    status = None
    while time.monotonic() < deadline:
        status = s.client.get_run_status(run_id)
        if status in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
            return status
        for service in (s.webserver, s.daemon):
            assert service.alive(), f"{service.name} exited:\n{service.log_tail()}"
        time.sleep(1)
    raise AssertionError(f"run {run_id} still {status} after {RUN_TIMEOUT_SECONDS} s:\n{s.daemon.log_tail()}")


def run_failure_details(s: Stack, run_id: str) -> str:
    events = s.gql(
        "query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events { __typename "
        "... on MessageEvent { message stepKey } ... on ExecutionStepFailureEvent { error { message } } } } } }",
        {"id": run_id},
    )["logsForRun"]["events"]
    failures = [e for e in events if e["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent")]
    return "\n".join(f"{e.get('stepKey')}: {e.get('message')} {e.get('error')}" for e in failures)


def test_materialize_everything_through_graphql_and_see_the_graph(stack: Stack):
    s = stack
    started = time.monotonic()

    # 1. the asset graph over GraphQL: every asset, group and edge the definitions declare
    nodes = s.gql("{ assetNodes { assetKey { path } dependencyKeys { path } groupName description owners { "
                  "... on TeamAssetOwner { team } ... on UserAssetOwner { email } } } }")["assetNodes"]
    served = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    assert set(served) == expected_keys()
    assert {"/".join(["incident_api", e.name]) for e in ENDPOINTS} <= set(served)
    edges = {(k, "/".join(d["path"])) for k, n in served.items() for d in n["dependencyKeys"]}
    assert edges == expected_edges()
    if "reliability/incident_facts" in served:
        assert ("reliability/incident_facts", "incident_api/incidents") in edges
    assert all(n["groupName"] in ("incident_api", "reliability") for n in served.values())
    assert all(n["description"] and n["owners"] for n in served.values())

    # 2. launch everything through GraphQL and wait for the daemon to run it
    run_id = s.client.submit_job_execution(
        "all_assets_job", repository_location_name=s.location, repository_name=s.repository
    )
    status = wait_for_run(s, run_id)
    assert status == dg.DagsterRunStatus.SUCCESS, run_failure_details(s, run_id)
    run_seconds = time.monotonic() - started

    # every asset was materialized by that run, and the data is in the temp DuckDB file
    latest = s.gql("{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId } } }")["assetNodes"]
    assert {"/".join(n["assetKey"]["path"]): [m["runId"] for m in n["assetMaterializations"]] for n in latest} == {
        k: [run_id] for k in expected_keys()
    }
    with duckdb.connect(str(s.db), read_only=True) as con:
        assert con.execute("select count(*) from incident_api.incidents").fetchone()[0] == s.sim.count("incidents")

    # the raw-table checks ran in the run; the key checks (ERROR) passed
    checks = s.gql(
        "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode { "
        "assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { "
        "runId status evaluation { severity } } } } } } } }",
        {"k": {"path": ["incident_api", "incidents"]}},
    )["assetNodeOrError"]["assetChecksOrError"]["checks"]
    by_name = {c["name"]: c["executionForLatestMaterialization"] for c in checks}
    assert by_name["primary_key_unique_not_null"]["status"] == "SUCCEEDED"
    assert by_name["primary_key_unique_not_null"]["runId"] == run_id
    assert by_name["every_incident_has_started_time"]["status"] == "SUCCEEDED"
    # the simulator names a few services its catalog lacks: a data problem, a WARN
    assert by_name["incident_services_exist"]["status"] == "FAILED"
    assert by_name["incident_services_exist"]["evaluation"]["severity"] == "WARN"

    # 3. the asset graph in a real browser
    screenshot = render_asset_graph(s)
    assert screenshot.stat().st_size > 10_000
    assert time.monotonic() - started < 180, f"end to end took {time.monotonic() - started:.0f} s (run {run_seconds:.0f} s)"


def test_failed_ingestion_run_is_recorded_by_the_daemon(stack: Stack):
    """A run that fails (a bad backfill window the API rejects) gets its summary recorded on the
    asset by the run-failure sensor running in the daemon, readable over GraphQL, token-free."""
    s = stack
    run_id = s.client.submit_job_execution(
        "incident_api_incidents_job",
        repository_location_name=s.location,
        repository_name=s.repository,
        run_config={"ops": {"incident_api_assets": {"config": {"updated_after": "yesterday"}}}},
    )
    assert wait_for_run(s, run_id) == dg.DagsterRunStatus.FAILURE

    query = (
        "query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode { "
        "assetObservations(limit: 1) { runId description tags { key value } "
        "metadataEntries { label ... on TextMetadataEntry { text } ... on MarkdownMetadataEntry { mdStr } } } } } }"
    )
    deadline = time.monotonic() + 90  # the sensor ticks every 30 s
    observation = None
    while time.monotonic() < deadline:
        found = s.gql(query, {"k": {"path": ["incident_api", "incidents"]}})["assetNodeOrError"]["assetObservations"]
        if found and run_id[:8] in (found[0]["description"] or ""):
            observation = found[0]
            break
        assert s.daemon.alive(), s.daemon.log_tail()
        time.sleep(2)
    assert observation is not None, f"no failure recorded for run {run_id}:\n{s.daemon.log_tail()}"
    assert observation["description"].startswith(f"Run {run_id[:8]} of job `incident_api_incidents_job` failed:")
    assert "HTTP 400" in observation["description"] and "/v1/incidents" in observation["description"]
    assert {"key": "incident_assets/run_failure", "value": "true"} in observation["tags"]
    assert DEFAULT_TOKEN not in str(observation)
    # only the asset the run was to materialize
    others = s.gql(query, {"k": {"path": ["incident_api", "services"]}})["assetNodeOrError"]["assetObservations"]
    assert not others or run_id[:8] not in (others[0]["description"] or "")


def test_reports_follow_ingestion_through_the_automation_sensor(stack: Stack):
    """Only the ingestion job is launched; the daemon's automation condition sensor then brings
    EVERY report downstream of the new data up to date on its own (every table, helper tables
    included, and the HTML report, not a subset)."""
    s = stack
    reports = sorted(k for k in expected_keys() if k.startswith("reliability/"))
    assert len(reports) == len(report_tables()) + 1, reports  # the SQL tables and the HTML report
    s.sim.add_incident()  # something new to load
    before = latest_runs(s, reports)
    run_id = s.client.submit_job_execution(
        "incident_api_ingestion_job", repository_location_name=s.location, repository_name=s.repository
    )
    assert wait_for_run(s, run_id) == dg.DagsterRunStatus.SUCCESS, run_failure_details(s, run_id)

    deadline = time.monotonic() + 210  # sensor ticks (30 s) plus the runs
    while time.monotonic() < deadline:
        latest = latest_runs(s, reports)
        if all(latest[k] not in (before[k], run_id) for k in reports):
            break
        assert s.daemon.alive(), s.daemon.log_tail()
        time.sleep(2)
    stale = [k for k in reports if latest[k] in (before[k], run_id)]
    assert not stale, f"the automation sensor did not refresh {stale}:\n{s.daemon.log_tail()}"
    for automated in set(latest.values()):
        assert wait_for_run(s, automated) == dg.DagsterRunStatus.SUCCESS, run_failure_details(s, automated)
        tags = s.gql(
            "query($id: ID!) { runOrError(runId: $id) { ... on Run { tags { key value } } } }", {"id": automated}
        )["runOrError"]["tags"]
        assert {"key": "dagster/from_automation_condition", "value": "true"} in tags
    with duckdb.connect(str(s.db), read_only=True) as con:
        assert con.execute("select count(*) from reliability.incident_facts").fetchone()[0] == s.sim.count("incidents")
    # the regression checks ran in the automation's runs, with the assets they check
    for asset, check in REPORT_CHECKS:
        node = s.gql(CHECKS_QUERY, {"k": {"path": asset.split("/")}})["assetNodeOrError"]
        execution = {c["name"]: c for c in node["assetChecksOrError"]["checks"]}[check]["executionForLatestMaterialization"]
        assert execution["runId"] == latest[asset], (asset, check)
        assert execution["status"] in ("SUCCEEDED", "FAILED"), (asset, check, execution)


REPORT_CHECKS = [("reliability/mttx_change", "mttx_regression"), ("reliability/slo_error_budget", "error_budget_exhausted"),
                 ("reliability/service_reliability_monthly", "availability_below_slo"),
                 ("reliability/data_quality_issues", "stale_open_incidents")]
CHECKS_QUERY = """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization { runId status } } } } } } }"""


def latest_runs(s: Stack, keys: list[str]) -> dict[str, str | None]:
    """The run of each asset's latest materialization."""
    nodes = s.gql("{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId } } }")["assetNodes"]
    found = {"/".join(n["assetKey"]["path"]): n["assetMaterializations"] for n in nodes}
    return {k: (found[k][0]["runId"] if found.get(k) else None) for k in keys}


def render_asset_graph(s: Stack) -> Path:
    """Opens the report group's lineage page and waits until asset names are drawn."""
    from playwright.sync_api import sync_playwright

    reports = sorted(k.split("/", 1)[1] for k in expected_keys() if k.startswith("reliability/"))
    group, names = ("reliability", reports) if reports else (
        "incident_api", sorted(k.split("/", 1)[1] for k in expected_keys())
    )
    upstream = "incidents"  # drawn as the reports' upstream (or as an asset of its own group)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "asset_graph.png"
    url = f"http://127.0.0.1:{s.port}/locations/{s.location}/asset-groups/{group}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1800, "height": 1200})
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            page.get_by_text(upstream, exact=True).first.wait_for(state="visible", timeout=60_000)
            # the graph opens zoomed in; zoom out a little (ctrl + wheel) to see more of it
            page.mouse.move(1000, 650)
            page.keyboard.down("Control")
            for _ in range(2):
                page.mouse.wheel(0, 50)
                page.wait_for_timeout(200)
            page.keyboard.up("Control")
            deadline = time.monotonic() + 30
            while True:
                visible = [n for n in names if page.get_by_text(n, exact=True).first.is_visible()]
                if len(visible) >= min(3, len(names)) or time.monotonic() > deadline:
                    break
                page.wait_for_timeout(250)
            try:  # node bodies fill in from further queries
                page.get_by_text("Loading...").first.wait_for(state="hidden", timeout=10_000)
            except Exception:
                pass
            page.wait_for_timeout(1000)
            page.screenshot(path=str(path))
            assert len(visible) >= min(3, len(names)), f"asset names drawn: {visible} of {names}"
            assert page.get_by_text(upstream, exact=True).first.is_visible()
        finally:
            browser.close()
    return path


# ---------------------------------------------------------------- `make demo`, then `make dev`

QUIET_SECONDS = 75  # the automation sensor ticks every 30 s; the incidents sensor at start-up


def test_demo_streams_progress_then_the_ui_shows_its_run_and_launches_nothing(tmp_path):
    """`make demo` (the same entry point) into a temp DAGSTER_HOME, its output read while it
    runs; then webserver and daemon on that home: every asset shows the demo's materialization,
    and for over a minute no sensor or automation launches a run."""
    home, db, html = tmp_path / "dagster_home", tmp_path / "incidents.duckdb", tmp_path / "reliability.html"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DESTINATION__DUCKDB__CREDENTIALS": str(db),
        "INCIDENT_ASSETS_HTML_REPORT": str(html),
        "SIMULATOR_PORT": "0",
    }
    env.pop("DLT_DATA_DIR")  # the project's own choice: a working dir beside the DuckDB file
    lines = run_demo(env, tmp_path)
    text = "\n".join(line for _, line in lines)
    exited = lines[-1][0]
    # progress while it works: a line per endpoint, then per report table, long before the end
    first_page = next(t for t, line in lines if "GET /v1/incidents:" in line)
    assert exited - first_page > 3, text
    for path in ("/v1/services", "/v1/incidents", "/v1/ticketing/tickets"):
        assert any(f"GET {path}: " in line and "done" in line for _, line in lines), text
    tables = [line for _, line in lines if " reliability." in line and line.endswith(" rows")]
    assert len(tables) == len([k for k in expected_keys() if k.startswith("reliability/")]) - 1, text
    assert "warning" not in text.lower() and "Traceback" not in text, text
    assert f"HTML report: {html}" in text and html.stat().st_size > 100_000

    port = free_port()
    services: list[Service] = []
    try:
        webserver = start_webserver(port, {**env, "PYTHONUNBUFFERED": "1"}, PROJECT_ROOT, tmp_path)
        services.append(webserver)
        gql = GraphQL(port)
        location, repository = wait_for_location(gql, webserver, timeout=90)
        (demo_run,) = run_ids(gql)
        latest = gql("{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId "
                     "metadataEntries { label } } } }")["assetNodes"]
        by_key = {"/".join(n["assetKey"]["path"]): n["assetMaterializations"] for n in latest}
        assert {k: [m["runId"] for m in v] for k, v in by_key.items()} == {k: [demo_run] for k in expected_keys()}
        assert "preview" in {e["label"] for e in by_key["reliability/mttx_monthly"][0]["metadataEntries"]}

        services.append(start_daemon({**env, "PYTHONUNBUFFERED": "1"}, PROJECT_ROOT, tmp_path))
        deadline = time.monotonic() + QUIET_SECONDS
        while time.monotonic() < deadline:
            assert run_ids(gql) == [demo_run], f"a run was launched on start-up:\n{services[-1].log_tail()}"
            time.sleep(3)
        selector = {"repositoryLocationName": location, "repositoryName": repository}
        for sensor in ("incident_api_new_incidents_sensor", "automation_condition_sensor"):
            # a tick still being evaluated (STARTED) has no outcome yet; every finished one skipped
            finished = [t for t in sensor_ticks(gql, selector, sensor) if t["status"] != "STARTED"]
            assert finished and all(t["status"] == "SKIPPED" for t in finished), (sensor, finished)
        screenshot_for_readme(port, location, html)
    finally:
        for service in reversed(services):
            service.stop()


def run_demo(env: dict[str, str], log_dir: Path) -> list[tuple[float, str]]:
    """Runs `python -m incident_assets.local demo`; each line with the time it was read."""
    import subprocess
    import sys

    lines: list[tuple[float, str]] = []
    with subprocess.Popen(
        [sys.executable, "-m", "incident_assets.local", "demo", "--incidents", "300"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as proc:
        for line in proc.stdout:
            lines.append((time.monotonic(), line.rstrip("\n")))
        code = proc.wait(timeout=RUN_TIMEOUT_SECONDS)
    lines.append((time.monotonic(), f"(exit {code})"))
    (log_dir / "demo.out").write_text("\n".join(line for _, line in lines))
    assert code == 0, "\n".join(line for _, line in lines)
    return lines


def run_ids(gql: GraphQL) -> list[str]:
    runs = gql("{ runsOrError { ... on Runs { results { runId } } } }")["runsOrError"]["results"]
    return [r["runId"] for r in runs]


def sensor_ticks(gql: GraphQL, repository: dict, name: str) -> list[dict]:
    return gql(
        "query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor { "
        "sensorState { ticks(limit: 10) { status skipReason } } } } }",
        {"s": {**repository, "sensorName": name}},
    )["sensorOrError"]["sensorState"]["ticks"]


# (file, UI path or None for the HTML report, text to wait for, texts the page must show)
README_SHOTS = (
    ("ui_reports_after_demo.png", "/locations/{location}/asset-groups/reliability", "incident_facts", ()),
    # a report's latest materialization: preview (months unwrapped), headline numbers after their period
    ("ui_report_preview.png", "/assets/reliability/mttx_monthly?view=events", "preview",
     ("period", "(last complete month)", "mtta_p50_minutes", "2026\u201110")),
    # its description carries the metric definitions (no link that leads nowhere)
    ("ui_report_definitions.png", "/assets/reliability/mttx_monthly", "Metric definitions",
     ("Question:", "Grain:")),
    # an ingestion asset: described columns, dlt's load in a few lines
    ("ui_ingestion_columns.png", "/assets/incident_api/incidents", "Columns",
     ("link to the incident in the incident tool", "GET /v1/incidents → incident_api.incidents")),
    ("ui_ingestion_load.png", "/assets/incident_api/incidents?view=events", "dlt_load",
     ("Loaded by dlt into duckdb, dataset incident_api", "load job")),
    ("ui_html_report_asset.png", "/assets/reliability/html_report?view=events", "open",
     ("into the browser's address bar",)),
    ("html_report.png", None, "Reliability review", ()),
)
TALL_SHOTS = {"ui_report_preview.png": 1400, "ui_report_definitions.png": 1000, "ui_ingestion_columns.png": 1100}
NEVER_SHOWN = ("(unserializable)", "`", "No assets were found")


def screenshot_for_readme(port: int, location: str, html: Path) -> None:
    """What the README shows after `make demo` (and what issue 23 asked to see fixed): the
    reports' lineage, a report's materialization and its definitions, an ingestion asset's
    columns and load, the HTML report asset and the report itself. Written to test-artifacts/
    (the committed copies of the README's are in docs/images/)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            for name, path, text, shown in README_SHOTS:
                # tall enough for what the shot is about (the UI scrolls inside, not the page)
                page.set_viewport_size({"width": 1280, "height": TALL_SHOTS.get(name, 800)})
                url = html.as_uri() if path is None else f"http://127.0.0.1:{port}{path.format(location=location)}"
                page.goto(url, wait_until="domcontentloaded", timeout=60_000)
                page.get_by_text(text, exact=True).first.wait_for(state="visible", timeout=60_000)
                dismiss_welcome(page)
                try:  # node bodies and metadata fill in from further queries
                    page.get_by_text("Loading...").first.wait_for(state="hidden", timeout=15_000)
                except Exception:
                    pass
                page.wait_for_timeout(1500)
                dismiss_welcome(page)
                page.screenshot(path=str(ARTIFACTS / name))
                body = page.inner_text("body")
                assert all(t in body for t in shown), (name, [t for t in shown if t not in body])
                if path is not None:
                    assert not [t for t in NEVER_SHOWN if t in body], (name, body[:3000])
        finally:
            browser.close()
    for name, *_ in README_SHOTS:
        assert (ARTIFACTS / name).stat().st_size > 10_000, name


def dismiss_welcome(page) -> None:
    """A new instance greets the first visitor with a newsletter dialog: skip it."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.first.wait_for(state="visible", timeout=3_000)
    except Exception:
        return
    skip.first.click()
