"""A newcomer's first hour: ports that stop at once and say why, a locked DuckDB file that names
its holder, progress lines, a failure shown as its sentence, and a new-incident sensor that
does not reload what an instance already has. (The demo -> UI hand-over is end to end in
test_webserver_e2e.py.)"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
import requests

from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.incident_api.http import check_response
from incident_assets.incident_api.progress import PageProgress
from incident_assets.defs.incident_api.sensors import INCIDENTS_KEY, new_incident_sensor
from incident_assets.incident_api.cursors import iso_utc
from incident_assets.local import RunOutput, UsageError, check_port_free, port_setting
from incident_assets.settings import PROJECT_ROOT
from incident_assets.simulator import DEFAULT_TOKEN
from incident_assets_tests.ingestion import materialize

# ---------------------------------------------------------------- ports


@pytest.fixture
def busy_port():
    """A port something listens on, as a running `make dev` would."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    "command, variable, how",
    [("dev", "UI_PORT", "env"), ("dev", "SIMULATOR_PORT", "env"), ("demo", "SIMULATOR_PORT", "flag")],
)
def test_a_busy_port_ends_the_command_at_once_in_one_line_naming_the_variable(
    busy_port, tmp_path, command, variable, how
):
    home = tmp_path / "dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home), "SIMULATOR_PORT": "0", "UI_PORT": "0"}
    args = [sys.executable, "-m", "incident_assets.local", command]
    if how == "env":
        env[variable] = str(busy_port)
    else:  # what `make demo SIMULATOR_PORT=...` passes
        args += ["--simulator-port", str(busy_port)]
    started = time.monotonic()
    done = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"{variable}={busy_port}: port {busy_port} on 127.0.0.1 is already in use")
    assert time.monotonic() - started < 5  # before the definitions are even imported
    assert not home.exists()  # nothing started, nothing created


def test_make_passes_the_ports_through():
    dry = subprocess.run(
        ["make", "-n", "dev", "UI_PORT=13001", "SIMULATOR_PORT=0"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30,
    )
    assert "incident_assets.local dev --simulator-port 0 --ui-port 13001" in dry.stdout, dry.stdout + dry.stderr


def test_port_settings(monkeypatch):
    monkeypatch.delenv("UI_PORT", raising=False)
    assert port_setting("UI_PORT", None) == 3000
    monkeypatch.setenv("UI_PORT", "13002")
    assert port_setting("UI_PORT", None) == 13002
    assert port_setting("UI_PORT", "13003") == 13003  # the command line wins
    assert check_port_free("UI_PORT", 0) > 0  # 0: any free port, chosen before start
    with pytest.raises(UsageError, match=r"^UI_PORT='http' is not a port number"):
        port_setting("UI_PORT", "http")


# ---------------------------------------------------------------- a locked DuckDB file


def test_a_locked_duckdb_file_names_the_file_and_the_process(project, duckdb_path):
    sim = project
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(120)",
         str(duckdb_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        sim.clear_log()
        result = materialize(
            [incident_api_assets], raise_on_error=False
        )
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith(f"the DuckDB file {duckdb_path} is locked by process {holder.pid} (")
    assert "`make dev`" in message and "DESTINATION__DUCKDB__CREDENTIALS" in message
    assert sim.request_log == []  # checked before any request to the API


# ---------------------------------------------------------------- progress and failures on the terminal


def test_progress_lines_per_endpoint_with_the_requests_to_go(shared_simulator):
    sim = shared_simulator
    lines: list[str] = []
    logger = logging.getLogger("incident_assets_tests.progress")
    logger.addHandler(handler := _ListHandler(lines))
    logger.setLevel(logging.INFO)
    progress = PageProgress(logger, every_seconds=3600)  # first and last page only
    try:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {DEFAULT_TOKEN}"
            for page in (1, 2, 3):
                session.get(f"{sim.base_url}/incidents", params={"per_page": 100, "page": page, "archived": "true"},
                            hooks={"response": [check_response, progress]})
    finally:
        logger.removeHandler(handler)
    assert sim.count("incidents") == 300
    assert lines == [
        "GET /v1/incidents: page 1 of 3, 100 rows so far, 2 requests to go",
        "GET /v1/incidents: 300 rows in 3 pages, done",
    ]


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__()
        self.lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


RUN = "all_assets_job - 0f8585e8-e099-473b-af45-dd62e114cb12"
FAILED_RUN_OUTPUT = f"""\
2026-12-01 21:42:20 +0000 - dagster - DEBUG - {RUN} - 29197 - RUN_START - Started execution of run for "all_assets_job".
2026-12-01 21:42:31 +0000 - dagster - INFO - {RUN} - incident_api_assets - GET /v1/teams: 8 rows in 1 page, done
2026-12-01 21:42:32 +0000 - dagster - ERROR - {RUN} - 29197 - incident_api_assets - STEP_FAILURE - Execution of step "incident_api_assets" failed.

dagster._core.definitions.events.Failure: incident API answered HTTP 401 Unauthorized for GET /v1/environments

Stack Trace:
  File "/venv/dagster/_core/execution/plan/execute_plan.py", line 243, in dagster_event_sequence_for_step
    yield from check.generator(step_events)
  File "/work/incident_assets/defs/incident_api/assets.py", line 88, in incident_api_assets
    raise dg.Failure(description=describe_failure(e)) from None

2026-12-01 21:42:33 +0000 - dagster - ERROR - {RUN} - 29197 - RUN_FAILURE - Execution of run for "all_assets_job" failed. Steps failed: ['incident_api_assets'].
Traceback (most recent call last):
  File "/venv/bin/dg", line 8, in <module>
dagster._core.errors.DagsterExecutionInterruptedError: Run resulted in failure.
"""

CRASHED_STEP_OUTPUT = f"""\
2026-12-01 21:42:32 +0000 - dagster - ERROR - {RUN} - 29197 - reliability_assets - STEP_FAILURE - Execution of step "reliability_assets" failed.

dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "reliability_assets"::

ZeroDivisionError: division by zero

Stack Trace:
  File "/venv/dagster/_core/execution/plan/utils.py", line 57, in op_execution_error_boundary
    yield

The above exception was caused by the following exception:
ZeroDivisionError: division by zero

Stack Trace:
  File "/work/incident_assets/defs/reliability/assets.py", line 1, in reliability_assets
"""


@pytest.mark.parametrize(
    "output, shown",
    [
        (FAILED_RUN_OUTPUT, [
            "21:42:31 GET /v1/teams: 8 rows in 1 page, done",
            "21:42:32 FAILED incident_api_assets: incident API answered HTTP 401 Unauthorized for GET /v1/environments",
        ]),
        (CRASHED_STEP_OUTPUT, ["21:42:32 FAILED reliability_assets: ZeroDivisionError: division by zero"]),
    ],
)
def test_a_failed_run_ends_on_its_sentence_without_stack_traces(output, shown):
    out = io.StringIO()
    lines = RunOutput(out)
    for line in output.splitlines(keepends=True):
        lines.feed(line)
    lines.close()
    assert out.getvalue().splitlines() == shown


# ---------------------------------------------------------------- the new-incident sensor on an up-to-date instance


def test_first_tick_on_an_instance_that_has_the_incidents_loads_nothing_again(project):
    sim = project
    with dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(INCIDENTS_KEY))  # e.g. by `make demo`
        loaded_at = instance.get_latest_materialization_event(INCIDENTS_KEY).timestamp
        sim.clear_log()
        result = new_incident_sensor(dg.build_sensor_context(cursor=None, instance=instance))
    assert result.run_requests == []
    since = iso_utc(datetime.fromtimestamp(loaded_at, timezone.utc) - timedelta(seconds=30))
    assert result.skip_reason.skip_message == f"no incident changed since {since}"
    # one cheap question, asked of both lists: what changed since that load
    assert [r.query["updated_after"] for r in sim.request_log] == [since, since]
    assert result.cursor > since


def test_loading_the_definitions_creates_nothing_and_installs_no_filter(tmp_path):
    """No data dir, dlt working dir or logging/warnings filter appears on import."""
    db = tmp_path / "data" / "incidents.duckdb"
    env = {**os.environ, "DESTINATION__DUCKDB__CREDENTIALS": str(db)}
    env.pop("DLT_DATA_DIR")
    probe = (
        "import logging, warnings, dagster, dagster_dlt, dlt, duckdb, plotly.tools, requests  # theirs\n"
        "def filters(): return len(warnings.filters), sum(len(l.filters) for l in [logging.getLogger()] + "
        "[l for l in logging.root.manager.loggerDict.values() if isinstance(l, logging.Logger)])\n"
        "before = filters(); import incident_assets.definitions; after = filters()\n"
        "print(after[0] - before[0], after[1] - before[1])"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "0"]
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------- stopping `make dev`


def descendants(root: int) -> set[int]:
    """Every live (not zombie) process below `root`, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if state != "Z":
            parents[int(stat.parent.name)] = int(ppid)
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_make_dev_stops_everything_it_started_on_sigterm_and_sigint(tmp_path, signum):
    """`make dev` as a service manager (SIGTERM) or Ctrl-C (SIGINT) stops it: dg dev, the
    webserver, the daemon and the code servers all end, and `make dev` waits for them."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "SIMULATOR_PORT": "0", "UI_PORT": "0",
           "DESTINATION__DUCKDB__CREDENTIALS": str(tmp_path / "incidents.duckdb"), "PYTHONUNBUFFERED": "1"}
    dev = subprocess.Popen([sys.executable, "-m", "incident_assets.local", "dev", "--incidents", "50"],
                           cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    try:
        first = dev.stdout.readline()
        ui = first.split("Dagster UI on ", 1)[1].split()[0]
        deadline = time.monotonic() + 150
        started: set[int] = set()
        # up: the webserver answers and dg dev runs webserver, daemon and a code server
        while time.monotonic() < deadline:
            started = descendants(dev.pid)
            commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in started if alive(pid))
            try:
                answered = requests.get(f"{ui}/server_info", timeout=5).status_code == 200
            except requests.RequestException:
                answered = False
            if answered and all(name in commands for name in ("dagster_webserver", "dagster._daemon", "grpc")):
                break
            time.sleep(1)
        else:
            raise AssertionError(f"make dev did not come up: {first}")
        assert len(started) >= 4, started  # dg dev, webserver, daemon, code server(s)
        os.kill(dev.pid, signum)
        assert dev.wait(timeout=60) == 128 + signum
        output = dev.stdout.read()
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
    left = [pid for pid in started if alive(pid)]
    assert left == [], (left, output[-2000:])
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{ui}/server_info", timeout=5)
