"""Running one measured variant in its own subprocess: wall time, peak RSS, its JSON result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence

from incident_assets.simulator import DEFAULT_TOKEN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULT_MARKER = "BENCH-RESULT "  # a child prints its result as one line: marker + JSON


@dataclass
class ChildRun:
    wall_s: float  # the whole process, interpreter start included
    peak_rss_mb: float
    result: dict[str, Any] = field(default_factory=dict)  # what the child reported

    @property
    def seconds(self) -> float:
        """The child's own timing of the measured work, else the process wall time."""
        return float(self.result.get("seconds", self.wall_s))


def emit(result: Mapping[str, Any]) -> None:
    """Called in a child: report its result to the parent."""
    print(RESULT_MARKER + json.dumps(result, default=str), flush=True)


def run_loader(load: Any) -> None:
    """A yardstick loader's command line, `<base_url> <duckdb_path> [excluded,endpoints]`: runs
    `load(base_url, db_path, excluded)` and reports its time and rows to the parent."""
    started = time.perf_counter()
    exclude = frozenset(e for e in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if e)
    rows = load(sys.argv[1], sys.argv[2], exclude)
    emit({"seconds": time.perf_counter() - started, "rows": rows})


def clean_env(extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOURCES__", "DESTINATION__", "INCIDENT_ASSETS_", "NORMALIZE__",
                                "DATA_WRITER__", "EXTRACT__", "LOAD__"))}
    env.pop("DAGSTER_HOME", None)
    env["PYTHONPATH"] = str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def run_child(args: Sequence[str], env: Mapping[str, str], timeout: float = 3600,
              log: Optional[Path] = None) -> ChildRun:
    """`python <args>` in a fresh process; raises with its output tail when it fails."""
    out = tempfile.TemporaryFile(mode="w+")
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, *args], env=dict(env), cwd=PROJECT_ROOT,
                            stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = started + timeout
    peak_kb = 0
    while True:
        peak_kb = max(peak_kb, tree_memory_kb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    text = out.read()
    out.close()
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as f:
            f.write(f"$ python {' '.join(args)}\n{text}\n")
    if proc.returncode != 0:
        raise RuntimeError(f"`python {' '.join(args)}` exited {proc.returncode}:\n{text[-4000:]}")
    result: dict[str, Any] = {}
    for line in text.splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER):])
    # Not `usage.ru_maxrss`: a forked child starts with the parent's resident pages, so its
    # ru_maxrss is never below the driver's RSS (which holds the in-thread simulator and DuckDB).
    result.setdefault("ru_maxrss_mb", usage.ru_maxrss / 1024)
    # CPU time (user + system) of the child and its waited-for children: what a run costs,
    # whatever else the machine is doing (wall times are shared with other work)
    result.setdefault("cpu_s", round(usage.ru_utime + usage.ru_stime, 3))
    return ChildRun(wall, peak_kb / 1024, result)


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                todo += [int(c) for c in children]
                found += [int(c) for c in children]
        except OSError:
            continue
    return found


def tree_memory_kb(pid: int) -> int:
    """Peak memory of a process so far (VmHWM, its own since exec) plus its descendants' current
    RSS (dlt's normalize workers, when configured). Polled; the sum is an upper-bound sample."""
    return _status_kb(pid, "VmHWM") + sum(_status_kb(child, "VmRSS") for child in _descendants(pid))


@contextmanager
def simulator_process(incidents: int, seed: int = 7, flags: Sequence[str] = (),
                      messy: bool = False) -> Iterator[str]:
    """The simulator CLI in its own process (rate limit off unless `flags` say so); yields its
    base URL. `messy`: a real account's records and ratios (the ingestion workload)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "incident_assets.simulator", "--port", "0",
         "--incidents", str(incidents), "--seed", str(seed), *(["--messy"] if messy else []), *flags],
        env=clean_env(), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"simulator did not start (exit {proc.poll()})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def project_env(base_url: str, workdir: Path, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The contract's environment for one project run against `base_url`, state in `workdir`:
    the default configuration (adaptive pacing included)."""
    return clean_env({
        "SOURCES__INCIDENT_API__BASE_URL": base_url,
        "SOURCES__INCIDENT_API__API_TOKEN": DEFAULT_TOKEN,
        "DESTINATION__DUCKDB__CREDENTIALS": str(workdir / "incidents.duckdb"),
        "DLT_DATA_DIR": str(workdir / "dlt"),
        **(extra or {}),
    })
