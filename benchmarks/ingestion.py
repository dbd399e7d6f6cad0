"""The ingestion scenarios: the project against the plain loader on a real account's data,
and against a rate-limited server. Each returns result rows (plain dicts, see `table.py`).

The workload is the simulator's messy one (`--messy`): every endpoint, records shaped like a
real account's, in a real account's ratios. Every run's requests are read back
from the simulator's request log, for per-endpoint throughput (`throughput.py`) and the 429s.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Mapping, Optional

from benchmarks.measure import ChildRun, clean_env, project_env, run_child, simulator_process
from benchmarks.scenarios import Log, Row, Workdir, exclude_env, median, raw_row_counts, warm_up
from benchmarks.throughput import RequestLog, endpoint_rates, median_rates, refused, total_rate

INGEST_TARGET_RATIO = 1.5  # the median run against the plain loader (wire speed)
INGEST_CEILING_RATIO = 2.0  # ... and no single run above this
BASELINE_TARGET_RATIO = 1.5  # against the Python baseline
RATE_LIMIT_WINDOW_S = 10.0  # the API's documented window, which the adaptive pacer assumes
RATE_LIMIT_SLACK_S = 20.0  # a rate-limited run may take this much longer than the limit allows
RATE_LIMIT_MAX_429 = 5
RSS_TARGET_MB = 1024.0
RSS_TARGET_SIZE = 100_000

VARIANTS = {
    # the wire-speed yardstick, the Python baseline; the project runs its default configuration
    "plain": ("benchmarks.plain_loader", "plain.duckdb"),
    "baseline": ("benchmarks.raw_baseline", "baseline.duckdb"),
}


def run_variant(variant: str, url: str, wd: Path, env_extra: Mapping[str, str], exclude: tuple[str, ...],
                logfile: Optional[Path]) -> tuple[ChildRun, dict[str, int]]:
    """One ingestion by `variant` into a fresh DuckDB file in `wd`: the run, rows per table."""
    if variant == "project":
        run = run_child(["-m", "benchmarks.project_runs", "ingest"], project_env(url, wd, env_extra), log=logfile)
        return run, raw_row_counts(wd / "incidents.duckdb")
    module, db = VARIANTS[variant]
    run = run_child(["-m", module, url, str(wd / db), ",".join(exclude)], clean_env(), log=logfile)
    return run, raw_row_counts(wd / db)


def ingest(sizes: list[int], repeat: int, work: Workdir, log: Log,
           extra_env: Optional[Mapping[str, str]] = None, logfile: Optional[Path] = None,
           exclude: tuple[str, ...] = ()) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        rows += ingest_size(size, repeat, work, log, extra_env, logfile, exclude)
    return rows + rss_rows([r for r in rows if r["kind"] == "ingest"])


def ingest_size(size: int, repeat: int, work: Workdir, log: Log, extra_env: Optional[Mapping[str, str]],
                logfile: Optional[Path], exclude: tuple[str, ...]) -> list[Row]:
    env_extra = exclude_env(exclude, extra_env)
    excluded_note = f" without {', '.join(exclude)}" if exclude else ", every endpoint"
    runs: dict[str, list[ChildRun]] = {"plain": [], "baseline": [], "project": []}
    rates: dict[str, list[dict[str, Any]]] = {"plain": [], "project": []}
    rows_match: dict[str, bool] = {}
    counts: dict[str, dict[str, int]] = {}
    requests = RequestLog(work.new(f"requests-{size}-") / "requests.jsonl")
    with simulator_process(size, flags=["--request-log", str(requests.path)], messy=True) as url:
        warm_up(url)
        for rep in range(repeat):
            # rotate which variant goes first, so none always meets a warmer machine
            order = list(runs)[rep % 3:] + list(runs)[:rep % 3]
            for variant in order:
                wd = work.new(f"{variant}-{size}-")
                start = requests.mark()
                run, counts[variant] = run_variant(variant, url, wd, env_extra, exclude, logfile)
                shutil.rmtree(wd, ignore_errors=True)
                runs[variant].append(run)
                if variant in rates:
                    rates[variant].append(endpoint_rates(requests.entries(start), counts[variant]))
                log(f"ingest {size:,} rep {rep + 1} {variant}: {run.seconds:.1f} s, "
                    f"{run.peak_rss_mb:.0f} MB {run.result.get('steps', '')}")
            for t in set(counts["baseline"]) | set(counts["project"]):
                same = counts["baseline"].get(t) == counts["project"].get(t)
                rows_match[t] = rows_match.get(t, True) and same
    project, plain, baseline = runs["project"], runs["plain"], runs["baseline"]
    p = median([r.seconds for r in project])
    w, b = median([r.seconds for r in plain]), median([r.seconds for r in baseline])
    run_ratios = [pr.seconds / pl.seconds for pr, pl in zip(project, plain)]  # same repetition
    ratio = p / w
    plain_rates, project_rates = median_rates(rates["plain"]), median_rates(rates["project"])
    common = {"size": size, "project_s": p, "project_rss_mb": max(r.peak_rss_mb for r in project),
              "project_runs_s": [r.seconds for r in project]}
    return [{
        **common,
        "scenario": f"full ingestion, {size:,} incidents{excluded_note}, vs plain loader",
        "kind": "ingest", "baseline_s": w, "ratio": ratio,
        "baseline_rss_mb": max(r.peak_rss_mb for r in plain),
        "target": f"<= {INGEST_TARGET_RATIO}x plain loader, no run > {INGEST_CEILING_RATIO}x",
        "met": ratio <= INGEST_TARGET_RATIO and max(run_ratios) <= INGEST_CEILING_RATIO,
        "run_ratios": run_ratios,
        "baseline_runs_s": [r.seconds for r in plain],
        "project_process_wall_s": [r.wall_s for r in project],
        "dlt_steps_s": [r.result.get("steps") for r in project],
        "records": sum(counts["project"].get(name, 0) for name in project_rates),
        "project_records_per_s": total_rate(counts["project"], p),
        "plain_records_per_s": total_rate(counts["plain"], w),
        "endpoints": {name: {"plain": plain_rates[name], "project": project_rates[name]} for name in project_rates},
        "row_counts": {k: counts[k] for k in ("baseline", "project")},
        "plain_row_counts": counts["plain"],
        "rows_match": rows_match,
        "env": dict(extra_env or {}),
        "excluded_endpoints": list(exclude),
    }, {
        **common,
        "scenario": f"full ingestion, {size:,} incidents{excluded_note}, vs Python baseline",
        "kind": "ingest-baseline", "baseline_s": b, "ratio": p / b,
        "baseline_rss_mb": max(r.peak_rss_mb for r in baseline),
        "target": f"<= {BASELINE_TARGET_RATIO}x baseline", "met": p / b <= BASELINE_TARGET_RATIO,
        "baseline_runs_s": [r.seconds for r in baseline],
    }]


def floor_seconds(requests: int, limit: int, window: float = RATE_LIMIT_WINDOW_S) -> float:
    """The least time `requests` sends take under `limit` per sliding `window`: the first
    `limit` at once, each further `limit` one window later."""
    return ((requests - 1) // limit) * window if requests else 0.0


def closest_window(times: list[float], limit: int) -> Optional[float]:
    """The shortest span the server saw between an admitted request and the `limit`-th after it
    (the limit holds while this stays >= the window)."""
    return min((times[k + limit] - times[k] for k in range(len(times) - limit)), default=None)


def rate_limited(size: int, limit: int, work: Workdir, log: Log,
                 extra_env: Optional[Mapping[str, str]] = None, logfile: Optional[Path] = None,
                 exclude: tuple[str, ...] = ()) -> list[Row]:
    """The default configuration against a server allowing `limit` requests per sliding 10 s,
    against the floor that limit sets for the requests the run needed."""
    wd = work.new(f"ratelimited-{size}-")
    requests = RequestLog(wd / "requests.jsonl")
    flags = ["--rate-limit", "--rate-limit-requests", str(limit),
             "--rate-limit-window", str(RATE_LIMIT_WINDOW_S), "--request-log", str(requests.path)]
    with simulator_process(size, flags=flags, messy=True) as url:
        run = run_child(["-m", "benchmarks.project_runs", "ingest"],
                        project_env(url, wd, exclude_env(exclude, extra_env)), log=logfile)
        counts = raw_row_counts(wd / "incidents.duckdb")
        entries = requests.entries()
    shutil.rmtree(wd, ignore_errors=True)
    refused_count = refused(entries)
    admitted = sorted(e["time"] for e in entries if e["status"] != 429)
    served = len(admitted)
    floor = floor_seconds(served, limit)
    closest = closest_window(admitted, limit)
    log(f"rate-limited {size:,}: {run.seconds:.1f} s, floor {floor:.0f} s, {served} requests, "
        f"{refused_count} answered 429, closest window {closest if closest is None else round(closest, 3)} s "
        f"{run.result.get('steps', '')}")
    return [{
        "scenario": f"rate-limited API ({limit} / {RATE_LIMIT_WINDOW_S:.0f} s sliding), {size:,} incidents, "
                    f"every endpoint: {served} requests, {refused_count} answered 429 (baseline = the floor)",
        "kind": "ratelimited", "size": size,
        "project_s": run.seconds, "baseline_s": floor, "ratio": run.seconds / floor if floor else None,
        "project_rss_mb": run.peak_rss_mb, "baseline_rss_mb": None,
        "target": f"<= floor + {RATE_LIMIT_SLACK_S:.0f} s, <= {RATE_LIMIT_MAX_429} answers 429",
        "met": run.seconds <= floor + RATE_LIMIT_SLACK_S and refused_count <= RATE_LIMIT_MAX_429,
        "requests": served, "refused_429": refused_count, "floor_s": floor,
        "closest_window_s": closest, "server_span_s": admitted[-1] - admitted[0] if admitted else None,
        "endpoints": {name: r for name, r in endpoint_rates(entries, counts).items()},
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
        "scenario": f"peak RSS, {large['size']:,} incidents, every endpoint (data x{data_growth:.1f} vs "
                    f"{small['size']:,}: RSS x{rss_growth:.2f})",
        "kind": "rss", "size": large["size"],
        "project_s": None, "baseline_s": None, "ratio": None,
        "project_rss_mb": large["project_rss_mb"], "baseline_rss_mb": large["baseline_rss_mb"],
        "target": f"<= {RSS_TARGET_MB:.0f} MB at {RSS_TARGET_SIZE:,}; growth <= half the data's",
        "met": large["project_rss_mb"] <= RSS_TARGET_MB and slow if at_target else None,
        "data_growth": data_growth, "rss_growth": rss_growth,
    }]
