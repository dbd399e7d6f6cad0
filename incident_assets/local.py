"""`make demo`, `make dev` and `make run`: the product on one machine.

- demo: the bundled simulator, then every asset materialized with `dg launch` into the project's
  Dagster instance and the default DuckDB file, progress on the terminal while it works; rows
  per table, the headline MTTx and the path of the HTML report at the end.
- dev: the simulator and the Dagster UI (`dg dev`) on the same instance, until SIGINT or
  SIGTERM, which stop everything it started before it returns, so the UI shows what the demo
  materialized.
- run: what demo does, against the configured API (no simulator): a headless run whose output
  is the progress lines and, when it fails, its one sentence.
- dg <args>: Dagster's `dg` CLI on the same instance and as-of rule (`make dg ARGS="..."`).

One Dagster instance: `DAGSTER_HOME` when set, else `.dagster_home/` in the project, with
`deploy/dagster.local.yaml` as its `dagster.yaml`. One as-of rule: `INCIDENT_ASSETS_AS_OF` when
set, else the simulator's anchor for the simulator's data, else the run's start. Ports: `SIMULATOR_PORT` (8765) and `UI_PORT`
(3000), from the command line or the environment, 0 = any free port; a busy port ends the
command at once with one line naming the variable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Iterable, Optional

from incident_assets.settings import (
    API_TOKEN_ENV,
    AS_OF_ENV,
    BASE_URL_ENV,
    DEFAULT_HTML_REPORT_PATH,
    PROJECT_ROOT,
)
from incident_assets.run_output import RunOutput
from incident_assets.simulator import DEFAULT_TOKEN, Simulator
from incident_assets.simulator.common import ANCHOR_MS, iso

PROJECT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
LOCAL_INSTANCE_YAML = PROJECT_ROOT / "deploy" / "dagster.local.yaml"
SIMULATOR_PORT_ENV = "SIMULATOR_PORT"
UI_PORT_ENV = "UI_PORT"
DEFAULT_PORTS = {SIMULATOR_PORT_ENV: 8765, UI_PORT_ENV: 3000}
HOST = "127.0.0.1"
BIN = Path(sys.executable).parent

class UsageError(Exception):
    """Something the user must change before anything starts, in one line."""


# ---------------------------------------------------------------- ports


def port_setting(variable: str, given: Optional[str]) -> int:
    """The port from the command line, else the environment variable, else the default."""
    raw = given if given not in (None, "") else os.environ.get(variable, "").strip()
    if raw in (None, ""):
        return DEFAULT_PORTS[variable]
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise UsageError(f"{variable}={raw!r} is not a port number (0-65535; 0 = any free port)")
    return port


def check_port_free(variable: str, port: int) -> int:
    """`port` when nothing listens on it on 127.0.0.1 (0: a free port, chosen now); else a
    `UsageError` naming the variable, before anything has started."""
    with socket.socket() as probe:
        # as the servers do: a port left in TIME_WAIT by a stopped server counts as free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            raise UsageError(
                f"{variable}={port}: port {port} on {HOST} is already in use (another `make dev`?); "
                f"stop it or choose another port, e.g. {variable}=0 for any free one"
            ) from None
        return probe.getsockname()[1]


# ---------------------------------------------------------------- the Dagster instance


def dagster_home() -> Path:
    """`DAGSTER_HOME` when set, else `.dagster_home/` in the project."""
    configured = os.environ.get("DAGSTER_HOME", "").strip()
    return Path(configured).expanduser().resolve() if configured else PROJECT_DAGSTER_HOME


def prepare_dagster_home() -> Path:
    """Creates the instance dir with `deploy/dagster.local.yaml` as its `dagster.yaml`: always
    for the project's own `.dagster_home/`, only when missing for a `DAGSTER_HOME` of the user's."""
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if home == PROJECT_DAGSTER_HOME or not config.exists():
        shutil.copy(LOCAL_INSTANCE_YAML, config)
    return home


def simulator_env(sim: Simulator) -> dict[str, str]:
    return {BASE_URL_ENV: sim.base_url, **simulator_defaults()}


def simulator_defaults() -> dict[str, str]:
    """The as-of rule and token of data from the bundled simulator: its data ends at its anchor,
    so reports are as of then (not as of today); `INCIDENT_ASSETS_AS_OF` and a token of the
    user's still win."""
    return {API_TOKEN_ENV: os.environ.get(API_TOKEN_ENV) or DEFAULT_TOKEN,
            AS_OF_ENV: os.environ.get(AS_OF_ENV) or iso(ANCHOR_MS)}


def configured_env() -> dict[str, str]:
    """What `make run` and `make dg` add to the environment: nothing against a configured API
    (reports as of the run's start, unless `INCIDENT_ASSETS_AS_OF`); with no API configured the
    project talks to the simulator's address (`make dev` serves it), so the simulator's rule."""
    return {} if os.environ.get(BASE_URL_ENV, "").strip() else simulator_defaults()


def child_env(home: Path, extra: Optional[dict[str, str]] = None) -> dict[str, str]:
    return {**os.environ, **(extra or {}), "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}


# ---------------------------------------------------------------- headless runs, streamed


def materialize_command() -> list[str]:
    """Dagster's current CLI; the job selects every asset (`--assets '*'` would do the same, and
    makes Dagster 1.13 warn about a beta parameter of its own selection parser). It runs with
    the code location's default executor: every step in one process (definitions.py)."""
    # imported here: the definitions take seconds to import, and a busy port must fail at once
    from incident_assets.defs.operations.jobs import ALL_ASSETS_JOB_NAME

    return [str(BIN / "dg"), "launch", "--job", ALL_ASSETS_JOB_NAME]


def stream_run(args: list[str], env: dict[str, str], log_path: Path, out: IO[str] = sys.stdout) -> int:
    """Runs a headless Dagster command, printing `RunOutput` lines as they come; the whole
    output goes to `log_path`. Its exit code."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    shown = RunOutput(out)
    with open(log_path, "w") as log, subprocess.Popen(
        args, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            shown.feed(line)
        code = proc.wait()
    shown.close()
    if code != 0 and not shown.failures:
        # not a run failure (definitions did not load, a bad option): Dagster's own words
        out.write(tail(log_path.read_text(), 40))
    return code


def tail(text: str, lines: int) -> str:
    return "".join(text.splitlines(keepends=True)[-lines:])


def run_everything(home: Path, env: dict[str, str], what: str) -> int:
    log_path = home / "cli_output" / f"{what}-{time.strftime('%Y%m%dT%H%M%S')}.log"
    code = stream_run(materialize_command(), env, log_path)
    if code != 0:
        print(f"{what} failed (exit {code}); Dagster's full output: {log_path}", flush=True)
        return code
    from incident_assets.summary import print_summary  # reads the destination just written

    print_summary()
    report = os.environ.get("INCIDENT_ASSETS_HTML_REPORT", "").strip() or DEFAULT_HTML_REPORT_PATH
    print(f"\nHTML report: {report}")
    print(f"Dagster instance: {home} (`make dev` shows this run, its metadata and previews)", flush=True)
    return 0


# ---------------------------------------------------------------- the commands


def demo(args: argparse.Namespace) -> int:
    sim_port = check_port_free(SIMULATOR_PORT_ENV, port_setting(SIMULATOR_PORT_ENV, args.simulator_port))
    home = prepare_dagster_home()
    with Simulator(incidents=args.incidents, seed=7, port=sim_port) as sim:
        print(f"simulator serving {sim.base_url}; materializing every asset into the Dagster "
              f"instance {home}...", flush=True)
        return run_everything(home, child_env(home, simulator_env(sim)), "demo")


def run(args: argparse.Namespace) -> int:
    home = prepare_dagster_home()
    print(f"materializing every asset into the Dagster instance {home}...", flush=True)
    return run_everything(home, child_env(home, configured_env()), "run")


def dg_command(dg_args: list[str]) -> int:
    """`dg <args>` on the project's instance with the as-of rule of `make run`: a bare
    `.venv/bin/dg launch` without DAGSTER_HOME runs on a throwaway instance the UI never sees."""
    home = prepare_dagster_home()
    print(f"dg {' '.join(dg_args)} (Dagster instance {home})", file=sys.stderr, flush=True)
    return subprocess.run([str(BIN / "dg"), *dg_args], cwd=PROJECT_ROOT,
                          env=child_env(home, configured_env())).returncode


def dev(args: argparse.Namespace) -> int:
    # both ports checked before anything starts
    sim_port = check_port_free(SIMULATOR_PORT_ENV, port_setting(SIMULATOR_PORT_ENV, args.simulator_port))
    ui_port = check_port_free(UI_PORT_ENV, port_setting(UI_PORT_ENV, args.ui_port))
    home = prepare_dagster_home()
    with Simulator(incidents=args.incidents, seed=7, port=sim_port) as sim:
        print(f"simulator serving {sim.base_url}; Dagster UI on http://{HOST}:{ui_port} "
              f"(instance {home})", flush=True)
        ui = subprocess.Popen(
            [str(BIN / "dg"), "dev", "-w", "workspace.yaml", "-h", HOST, "-p", str(ui_port)],
            cwd=PROJECT_ROOT, env=child_env(home, simulator_env(sim)),
            start_new_session=True,  # its own process group: signals reach it from here, once
        )
        return wait_forwarding_stop_signals(ui)


# ---------------------------------------------------------------- stopping `make dev`

# how long `dg dev` gets to stop its webserver, daemon and code servers before they are killed
STOP_GRACE_SECONDS = 30


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            members.append(int(stat.parent.name))
    return members


def wait_forwarding_stop_signals(proc: subprocess.Popen) -> int:
    """Waits for `proc`, which leads a process group of its own (`dg dev`). SIGTERM (a service
    manager, a closing terminal) and SIGINT (Ctrl-C) sent to this process reach it as SIGINT,
    the signal on which Dagster stops its webserver, daemon and code servers; whatever of its
    group still runs `STOP_GRACE_SECONDS` later is killed. Nothing it started outlives it."""
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        try:
            os.kill(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = proc.wait()  # a handled signal does not end the wait (PEP 475)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in group_members(proc.pid):  # these ignored Dagster's stop
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 + received[0] if received else code


def main(argv: Optional[Iterable[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["dg"]:  # everything after it is dg's
        return dg_command(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m incident_assets.local",
                                     epilog="dg <its arguments>: Dagster's dg CLI on the project's instance")
    parser.add_argument("command", choices=["demo", "dev", "run"])
    parser.add_argument("--incidents", type=int, default=2000, help="the simulator's incidents")
    parser.add_argument("--simulator-port", help=f"else ${SIMULATOR_PORT_ENV}, else 8765 (0: any free port)")
    parser.add_argument("--ui-port", help=f"else ${UI_PORT_ENV}, else 3000 (0: any free port)")
    args = parser.parse_args(argv)
    try:
        return {"demo": demo, "dev": dev, "run": run}[args.command](args)
    except UsageError as e:
        print(e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C reached the Dagster process too; it stops on its own
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
