"""The measured scenarios. Each returns a list of result rows (plain dicts, see `table.py`)."""

from __future__ import annotations

import shutil
import statistics
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import json

import duckdb
import requests

from benchmarks.measure import ChildRun, clean_env, project_env, run_child, simulator_process
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.simulator import DEFAULT_TOKEN, Simulator

Row = dict[str, Any]
Log = Callable[[str], None]

INGEST_TARGET_RATIO = 2.0  # against the plain loader (wire speed); the aim is 1.5
BASELINE_TARGET_RATIO = 1.5  # against the Python baseline
RATE_LIMIT_WINDOW_S = 10.0
RATE_LIMIT_SLACK_S = 20.0  # a rate-limited run may take this much longer than the limit allows
RATE_LIMIT_MAX_429 = 6  # those that reveal the limit: about one per endpoint thread in flight
RSS_TARGET_MB = 1024.0
RSS_TARGET_SIZE = 100_000
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


# --- full ingestion -----------------------------------------------------------------------

def exclude_env(exclude: tuple[str, ...], extra_env: Optional[Mapping[str, str]]) -> dict[str, str]:
    from benchmarks.project_runs import EXCLUDE_ENV

    return {**(extra_env or {}), **({EXCLUDE_ENV: ",".join(exclude)} if exclude else {})}


VARIANTS = {
    # the wire-speed yardstick, the Python baseline, the project (default configuration)
    "plain": ("benchmarks.plain_loader", "plain.duckdb"),
    "baseline": ("benchmarks.raw_baseline", "baseline.duckdb"),
}


def ingest(sizes: list[int], repeat: int, work: Workdir, log: Log,
           extra_env: Optional[Mapping[str, str]] = None, logfile: Optional[Path] = None,
           exclude: tuple[str, ...] = ()) -> list[Row]:
    env_extra = exclude_env(exclude, extra_env)
    excluded_note = f" without {', '.join(exclude)}" if exclude else ""
    rows: list[Row] = []
    for size in sizes:
        runs: dict[str, list[ChildRun]] = {"plain": [], "baseline": [], "project": []}
        rows_match: dict[str, bool] = {}
        with simulator_process(size) as url:
            warm_up(url)
            for rep in range(repeat):
                # rotate which variant goes first, so none always meets a warmer machine
                order = list(runs)[rep % 3:] + list(runs)[:rep % 3]
                counts: dict[str, dict[str, int]] = {}
                for variant in order:
                    wd = work.new(f"{variant}-{size}-")
                    if variant == "project":
                        run = run_child(["-m", "benchmarks.project_runs", "ingest"],
                                        project_env(url, wd, env_extra), log=logfile)
                        counts[variant] = raw_row_counts(wd / "incidents.duckdb")
                    else:
                        module, db = VARIANTS[variant]
                        run = run_child(["-m", module, url, str(wd / db), ",".join(exclude)],
                                        clean_env(), log=logfile)
                        counts[variant] = raw_row_counts(wd / db)
                    runs[variant].append(run)
                    log(f"ingest {size:,} rep {rep + 1} {variant}: {run.seconds:.1f} s, "
                        f"{run.peak_rss_mb:.0f} MB {run.result.get('steps', '')}")
                    shutil.rmtree(wd, ignore_errors=True)
                for t in set(counts["baseline"]) | set(counts["project"]):
                    same = counts["baseline"].get(t) == counts["project"].get(t)
                    rows_match[t] = rows_match.get(t, True) and same
                last_counts = counts
        project, plain, baseline = runs["project"], runs["plain"], runs["baseline"]
        p = median([r.seconds for r in project])
        w, b = median([r.seconds for r in plain]), median([r.seconds for r in baseline])
        common = {
            "size": size, "project_s": p, "project_rss_mb": max(r.peak_rss_mb for r in project),
            "project_runs_s": [r.seconds for r in project],
        }
        rows.append({
            **common,
            "scenario": f"full ingestion, {size:,} incidents{excluded_note}, vs plain loader",
            "kind": "ingest", "baseline_s": w, "ratio": p / w,
            "baseline_rss_mb": max(r.peak_rss_mb for r in plain),
            "target": f"<= {INGEST_TARGET_RATIO}x plain loader", "met": p / w <= INGEST_TARGET_RATIO,
            "baseline_runs_s": [r.seconds for r in plain],
            "project_process_wall_s": [r.wall_s for r in project],
            "dlt_steps_s": [r.result.get("steps") for r in project],
            "row_counts": {k: last_counts[k] for k in ("baseline", "project")},
            "plain_row_counts": last_counts["plain"],
            "rows_match": rows_match,
            "env": dict(extra_env or {}),
            "excluded_endpoints": list(exclude),
        })
        rows.append({
            **common,
            "scenario": f"full ingestion, {size:,} incidents{excluded_note}, vs Python baseline",
            "kind": "ingest-baseline", "baseline_s": b, "ratio": p / b,
            "baseline_rss_mb": max(r.peak_rss_mb for r in baseline),
            "target": f"<= {BASELINE_TARGET_RATIO}x baseline", "met": p / b <= BASELINE_TARGET_RATIO,
            "baseline_runs_s": [r.seconds for r in baseline],
        })
    rows.extend(rss_rows([r for r in rows if r["kind"] == "ingest"]))
    return rows


def rate_limited(size: int, limit: int, work: Workdir, log: Log,
                 extra_env: Optional[Mapping[str, str]] = None, logfile: Optional[Path] = None,
                 exclude: tuple[str, ...] = ()) -> list[Row]:
    """The default configuration against a server limiting to `limit` requests / 10 s, against
    the floor that limit sets: R requests need at least ((R - 1) // limit) * 10 s."""
    wd = work.new(f"ratelimited-{size}-")
    request_log = wd / "requests.jsonl"
    flags = ["--rate-limit", "--rate-limit-requests", str(limit),
             "--rate-limit-window", str(RATE_LIMIT_WINDOW_S), "--request-log", str(request_log)]
    with simulator_process(size, flags=flags) as url:
        run = run_child(["-m", "benchmarks.project_runs", "ingest"],
                        project_env(url, wd, exclude_env(exclude, extra_env)), log=logfile)
        statuses = [json.loads(line)["status"] for line in request_log.read_text().splitlines()]
    shutil.rmtree(wd, ignore_errors=True)
    refused = statuses.count(429)
    served = len(statuses) - refused
    floor = ((served - 1) // limit) * RATE_LIMIT_WINDOW_S
    log(f"rate-limited {size:,}: {run.seconds:.1f} s, floor {floor:.0f} s, {served} requests, "
        f"{refused} answered 429")
    return [{
        "scenario": f"rate-limited API ({limit} / {RATE_LIMIT_WINDOW_S:.0f} s), {size:,} incidents: "
                    f"{served} requests, {refused} answered 429 (baseline = the floor)",
        "kind": "ratelimited", "size": size,
        "project_s": run.seconds, "baseline_s": floor, "ratio": run.seconds / floor if floor else None,
        "project_rss_mb": run.peak_rss_mb, "baseline_rss_mb": None,
        "target": f"<= floor + {RATE_LIMIT_SLACK_S:.0f} s, <= {RATE_LIMIT_MAX_429} 429s",
        "met": run.seconds <= floor + RATE_LIMIT_SLACK_S and refused <= RATE_LIMIT_MAX_429,
        "requests": served, "refused_429": refused, "floor_s": floor,
        "dlt_steps_s": run.result.get("steps"),
    }]


def rss_rows(ingest_rows: list[Row]) -> list[Row]:
    """Peak RSS at the largest size against 1 GB, and its growth against the data's."""
    if not ingest_rows:
        return []
    small, large = ingest_rows[0], ingest_rows[-1]
    data_growth = large["size"] / small["size"]
    rss_growth = large["project_rss_mb"] / small["project_rss_mb"]
    # "far slower than the data": at most half the data's growth factor
    slow = data_growth == 1 or rss_growth <= 1 + (data_growth - 1) / 2
    at_target = large["size"] >= RSS_TARGET_SIZE
    return [{
        "scenario": f"peak RSS, {large['size']:,} incidents (data x{data_growth:.1f} vs "
                    f"{small['size']:,}: RSS x{rss_growth:.2f})",
        "kind": "rss", "size": large["size"],
        "project_s": None, "baseline_s": None, "ratio": None,
        "project_rss_mb": large["project_rss_mb"], "baseline_rss_mb": large["baseline_rss_mb"],
        "target": f"<= {RSS_TARGET_MB:.0f} MB at {RSS_TARGET_SIZE:,}; growth <= half the data's",
        "met": large["project_rss_mb"] <= RSS_TARGET_MB and slow if at_target else None,
        "data_growth": data_growth, "rss_growth": rss_growth,
    }]


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
    with Simulator(incidents=size, seed=7) as sim:
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
        log(f"reports over {incidents:,}: {run.seconds:.1f} s, {run.peak_rss_mb:.0f} MB; "
            f"floor {floors[-1].seconds:.1f} s")
    shutil.rmtree(wd, ignore_errors=True)
    s = median([r.seconds for r in runs])
    floor_s = median([f.seconds for f in floors])
    return [{
        "scenario": f"reports over {incidents:,} incidents (baseline = floor, one create-table pass)",
        "kind": "reports", "size": incidents,
        "project_s": s, "baseline_s": floor_s, "ratio": s / floor_s,
        "project_rss_mb": max(r.peak_rss_mb for r in runs), "baseline_rss_mb": max(f.peak_rss_mb for f in floors),
        "target": f"<= {REPORTS_TARGET_S:.0f} s", "met": s <= REPORTS_TARGET_S,
        "runs_s": [r.seconds for r in runs],
        "floor_s": floor_s, "floor_ratio": s / floor_s, "floor_runs_s": [f.seconds for f in floors],
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
