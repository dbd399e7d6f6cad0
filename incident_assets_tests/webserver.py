"""Helpers for end-to-end tests: Dagster's own services as subprocesses, always cleaned up.

Each service runs in its own process group (it spawns code servers and run workers), and
`stop()` ends the whole group: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Optional

VENV_BIN = Path(sys.executable).parent

DAGSTER_YAML = """\
# test instance: DuckDB takes one writer, so every op of the destination pool runs alone
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
nux:
  enabled: false
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text(DAGSTER_YAML)
    return path


class Service:
    """A long-running command in its own process group, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path, log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        try:
            if self.alive():
                _signal_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            # children (code servers, run workers) share the group: make sure none outlive us
            _signal_group(self.proc.pid, signal.SIGKILL)
            if self.proc.poll() is None:
                self.proc.wait(timeout=5)
        finally:
            self._log.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def start_webserver(port: int, env: dict[str, str], cwd: Path, log_dir: Path) -> Service:
    return Service(
        "webserver",
        [str(VENV_BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        env, cwd, log_dir,
    )


def start_daemon(env: dict[str, str], cwd: Path, log_dir: Path) -> Service:
    return Service("daemon", [str(VENV_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, cwd, log_dir)


class GraphQL:
    """Raw GraphQL over HTTP, for what `DagsterGraphQLClient` has no method for."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, variables: Optional[dict[str, Any]] = None, timeout: float = 30) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]


LOCATIONS_QUERY = """
query { workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { name } } }
} } } }
"""


def wait_for_location(gql: GraphQL, service: Service, timeout: float) -> tuple[str, str]:
    """Blocks until the webserver has loaded the code location; returns (location, repository)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not service.alive():
            raise AssertionError(f"{service.name} exited:\n{service.log_tail()}")
        try:
            entries = gql(LOCATIONS_QUERY, timeout=5)["workspaceOrError"]["locationEntries"]
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as e:
            last = repr(e)
        else:
            for entry in entries:
                loaded = entry["locationOrLoadError"]
                if entry["loadStatus"] == "LOADED" and loaded:
                    if loaded["__typename"] == "PythonError":
                        raise AssertionError(f"code location failed to load: {loaded['message']}")
                    return entry["name"], loaded["repositories"][0]["name"]
            last = json.dumps(entries)
        time.sleep(0.5)
    raise AssertionError(f"webserver did not load the code location in {timeout} s ({last}):\n{service.log_tail()}")
