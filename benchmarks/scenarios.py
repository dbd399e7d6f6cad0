"""The measured scenarios besides ingestion (`ingestion.py`): incremental loads, reports,
definitions, and the helpers they share. Each returns a list of result rows (plain dicts, see
`table.py`)."""

from __future__ import annotations

import shutil
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import duckdb
import requests

from benchmarks.measure import ChildRun, clean_env, project_env, run_child, simulator_process
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.simulator import DEFAULT_TOKEN, Simulator

Row = dict[str, Any]
Log = Callable[[str], None]

INCREMENTAL_TARGET = 0.10
REPORTS_TARGET_S = 15.0
DEFS_TARGET_S = 3.0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def raw_row_counts(db: Path, schema: str = "incident_api") -> dict[str, int]:
    """Rows per table of `schema`, dlt's bookkeeping tables left out."""
    with duckdb.connect(str(db), read_only=True) as con:
        names = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall() if not t.startswith("_dlt")]
        return {t: con.execute(f'select count(*) from {schema}."{t}"').fetchone()[0] for t in sorted(names)}


def warm_up(base_url: str) -> None:
    """One small request per endpoint, so neither variant pays the simulator's first-use costs."""
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    for endpoint in ENDPOINTS:
        requests.get(f"{base_url}/{endpoint.path}", params={**endpoint.params, "per_page": 1},
                     headers=headers, timeout=600).raise_for_status()


class Workdir:
    """A temp dir per measured run, removed afterwards (100k-incident files add up)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def new(self, prefix: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=self.root))


def exclude_env(exclude: tuple[str, ...], extra_env: Optional[Mapping[str, str]]) -> dict[str, str]:
    from benchmarks.project_runs import EXCLUDE_ENV

    return {**(extra_env or {}), **({EXCLUDE_ENV: ",".join(exclude)} if exclude else {})}


# --- incremental --------------------------------------------------------------------------

def mutate(sim: Simulator, fraction: float, round_no: int) -> int:
    """Changes `fraction` of the incidents: half resolved again, half a milestone moved."""
    with sim.data.lock:
        ids = [inc.id for inc in sim.data.lists["incidents"]]
    count = max(1, int(len(ids) * fraction))
    step = len(ids) // count
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for k, i in enumerate(range(round_no % step, len(ids), step)):
        if k >= count:
            break
        if k % 2 == 0:
            sim.resolve_incident(ids[i])
        else:
            sim.edit_milestone(ids[i], "acknowledged", now)
    return count


def incremental(size: int, repeat: int, work: Workdir, log: Log,
                extra_env: Optional[Mapping[str, str]] = None, logfile: Optional[Path] = None,
                exclude: tuple[str, ...] = ()) -> list[Row]:
    wd = work.new(f"incremental-{size}-")
    # in this process, so the benchmark can change the data between runs
    with Simulator(incidents=size, seed=7, messy=True) as sim:
        env = project_env(sim.base_url, wd, exclude_env(exclude, extra_env))
        full = run_child(["-m", "benchmarks.project_runs", "ingest"], env, log=logfile)
        log(f"incremental {size:,} full: {full.seconds:.1f} s, {full.peak_rss_mb:.0f} MB")
        unchanged: list[ChildRun] = []
        changed: list[ChildRun] = []
        changed_counts: list[int] = []
        for rep in range(repeat):
            run = run_child(["-m", "benchmarks.project_runs", "ingest"], env, log=logfile)
            unchanged.append(run)
            log(f"incremental {size:,} unchanged: {run.seconds:.1f} s {run.result.get('steps')}")
            count = mutate(sim, 0.01, rep)
            run = run_child(["-m", "benchmarks.project_runs", "ingest"], env, log=logfile)
            changed.append(run)
            changed_counts.append(count)
            log(f"incremental {size:,} 1% ({count} incidents): {run.seconds:.1f} s "
                f"{run.result.get('steps')} incidents loaded: "
                f"{run.result.get('rows_normalized', {}).get('incidents')}")
    shutil.rmtree(wd, ignore_errors=True)
    rows = []
    for label, runs, target in (("nothing changed", unchanged, None), ("1% changed", changed, INCREMENTAL_TARGET)):
        s = median([r.seconds for r in runs])
        rows.append({
            "scenario": f"incremental, {label}, {size:,} incidents"
                        f"{' without ' + ', '.join(exclude) if exclude else ''} (baseline = full run)",
            "kind": "incremental", "size": size,
            "project_s": s, "baseline_s": full.seconds, "ratio": s / full.seconds,
            "project_rss_mb": max(r.peak_rss_mb for r in runs), "baseline_rss_mb": full.peak_rss_mb,
            "target": f"<= {target:.0%} of full" if target else "(none)",
            "met": (s / full.seconds <= target) if target else None,
            "runs_s": [r.seconds for r in runs],
            "dlt_steps_s": [r.result.get("steps") for r in runs],
            "incidents_loaded": [r.result.get("rows_normalized", {}).get("incidents") for r in runs],
            "incidents_changed": changed_counts if target else [0] * len(runs),
        })
    return rows


# --- reports ------------------------------------------------------------------------------

def reports(incidents: int, layout_incidents: int, repeat: int, work: Workdir, log: Log,
            logfile: Optional[Path] = None) -> list[Row]:
    from benchmarks.report_data import generate

    wd = work.new(f"reports-{incidents}-")
    layout = wd / "layout"
    layout.mkdir()
    # a real (small) ingestion: the generated tables copy its layout and catalogs
    with simulator_process(layout_incidents) as url:
        run_child(["-m", "benchmarks.project_runs", "ingest"], project_env(url, layout), log=logfile)
    target = wd / "reports.duckdb"
    generated = generate(layout / "incidents.duckdb", target, incidents)
    log(f"reports: generated {incidents:,} incidents in {generated['seconds']:.1f} s: {generated['rows']}")
    runs, floors = [], []
    for _ in range(repeat):
        env = clean_env({"DESTINATION__DUCKDB__CREDENTIALS": str(target), "DLT_DATA_DIR": str(wd / "dlt")})
        run = run_child(["-m", "benchmarks.project_runs", "reports"], env, log=logfile)
        runs.append(run)
        # the floor on the same file, right after: see benchmarks/report_floor.py
        floors.append(run_child(["-m", "benchmarks.report_floor", str(target)], clean_env(), log=logfile))
        # CPU seconds beside the wall time: other work on the machine stretches the wall time only
        log(f"reports over {incidents:,}: {run.seconds:.1f} s ({run.result['cpu_s']:.1f} s CPU), "
            f"{run.peak_rss_mb:.0f} MB; floor {floors[-1].seconds:.1f} s ({floors[-1].result['cpu_s']:.1f} s CPU)")
    shutil.rmtree(wd, ignore_errors=True)
    s = median([r.seconds for r in runs])
    floor_s = median([f.seconds for f in floors])
    return [{
        "scenario": f"reports over {incidents:,} incidents (baseline = floor, one create-table pass)",
        "kind": "reports", "size": incidents,
        "project_s": s, "baseline_s": floor_s, "ratio": s / floor_s,
        "project_rss_mb": max(r.peak_rss_mb for r in runs), "baseline_rss_mb": max(f.peak_rss_mb for f in floors),
        "target": f"<= {REPORTS_TARGET_S:.0f} s", "met": s <= REPORTS_TARGET_S,
        "runs_s": [r.seconds for r in runs], "runs_cpu_s": [r.result["cpu_s"] for r in runs],
        "floor_s": floor_s, "floor_ratio": s / floor_s, "floor_runs_s": [f.seconds for f in floors],
        "floor_runs_cpu_s": [f.result["cpu_s"] for f in floors],
        "generated_rows": generated["rows"], "generate_s": generated["seconds"],
        "report_rows": runs[-1].result.get("report_rows"),
    }]


# --- definitions --------------------------------------------------------------------------

def definitions(repeat: int, log: Log, logfile: Optional[Path] = None) -> list[Row]:
    runs = [run_child(["-c", "import incident_assets.definitions"], clean_env(), log=logfile)
            for _ in range(repeat)]
    s = median([r.wall_s for r in runs])
    log(f"definitions load: {[round(r.wall_s, 2) for r in runs]}")
    return [{
        "scenario": "load Dagster definitions (fresh process)",
        "kind": "defs", "size": None,
        "project_s": s, "baseline_s": None, "ratio": None,
        "project_rss_mb": max(r.peak_rss_mb for r in runs), "baseline_rss_mb": None,
        "target": f"<= {DEFS_TARGET_S:.0f} s", "met": s <= DEFS_TARGET_S,
        "runs_s": [r.wall_s for r in runs],
    }]
