"""The report run as `make dev` runs it: every `reliability/*` asset through Dagster's executor,
on a DuckDB file loaded from the simulator (2,000 incidents, `make dev`'s default).

Variants, in child processes, on the same file, with the project's Dagster instance settings
(`deploy/dagster.local.yaml`: the destination pool takes one step at a time):
- in_process: every step in the run's process, one after another (the code location's default
  executor, see incident_assets/definitions.py);
- multiprocess: a process per step (Dagster's default executor, what `make dev`'s runs used).
The ratio is in_process / multiprocess: below 1 the default is the faster choice.

`python -m benchmarks.report_run in_process|multiprocess` is the child: it prints the run's
seconds (the run itself, not the interpreter's start-up nor loading the definitions).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from benchmarks.measure import PROJECT_ROOT, clean_env, emit, project_env, run_child, simulator_process

AS_OF = "2026-11-01T00:00:00Z"
INCIDENTS = 2_000
JOB_NAME = "bench_report_run"
Row = dict[str, Any]
Log = Callable[[str], None]


def report_job(executor: str) -> Any:
    """Every report asset (the `reliability` group) as one job with the given executor."""
    import dagster as dg

    from incident_assets.definitions import defs

    executor_def = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor}[executor]
    job = dg.define_asset_job(JOB_NAME, selection=dg.AssetSelection.groups("reliability"), executor_def=executor_def)
    return dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def(JOB_NAME)


def in_process_job() -> Any:
    return report_job("in_process")


def multiprocess_job() -> Any:
    return report_job("multiprocess")


def child(executor: str) -> None:
    import dagster as dg

    target = dg.reconstructable({"in_process": in_process_job, "multiprocess": multiprocess_job}[executor])
    target.get_definition()  # definitions loaded before the clock starts
    with dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        with dg.execute_job(target, instance=instance) as result:
            seconds = time.perf_counter() - started
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            built = sorted(e.asset_key.path[-1] for e in result.get_asset_materialization_events())
    emit({"seconds": seconds, "materialized": built})


def run(repeat: int, work: Any, log: Log, logfile: Optional[Path] = None, quick: bool = False) -> list[Row]:
    """`quick` (the smoke run): 300 incidents, in-process only (a process per step takes minutes)."""
    incidents = 300 if quick else INCIDENTS
    wd = work.new("report-run-")
    with simulator_process(incidents) as url:
        run_child(["-m", "benchmarks.project_runs", "ingest"], project_env(url, wd), log=logfile)
    home = wd / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    env = clean_env({"DESTINATION__DUCKDB__CREDENTIALS": str(wd / "incidents.duckdb"), "DLT_DATA_DIR": str(wd / "dlt"),
                     "DAGSTER_HOME": str(home), "INCIDENT_ASSETS_AS_OF": AS_OF,
                     "INCIDENT_ASSETS_HTML_REPORT": str(wd / "reliability.html")})
    runs: dict[str, list[Any]] = {"in_process": []} if quick else {"in_process": [], "multiprocess": []}
    for _ in range(repeat):
        for executor, measured in runs.items():
            measured.append(run_child(["-m", "benchmarks.report_run", executor], env, log=logfile))
            log(f"report run over {incidents:,} incidents, {executor}: {measured[-1].seconds:.1f} s")
    shutil.rmtree(wd, ignore_errors=True)
    import statistics

    s = statistics.median(r.seconds for r in runs["in_process"])
    base = statistics.median(r.seconds for r in runs["multiprocess"]) if "multiprocess" in runs else None
    return [{
        "scenario": f"report run over {incidents:,} incidents, default in-process executor "
                    "(baseline = a process per step)",
        "kind": "reportrun", "size": incidents,
        "project_s": s, "baseline_s": base, "ratio": s / base if base else None,
        "project_rss_mb": max(r.peak_rss_mb for r in runs["in_process"]),
        "baseline_rss_mb": max(r.peak_rss_mb for r in runs["multiprocess"]) if base else None,
        "target": "ratio < 1", "met": s < base if base else None,
        "runs_s": {k: [r.seconds for r in v] for k, v in runs.items()},
        "materialized": runs["in_process"][-1].result.get("materialized"),
    }]


if __name__ == "__main__":
    child(sys.argv[1])
