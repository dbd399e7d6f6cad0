"""Child processes running the project itself: `python -m benchmarks.project_runs ingest|reports`.

Configuration comes from the environment (see `measure.project_env`); each prints one
result line (`measure.emit`) with the timed work in `seconds`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

AS_OF = "2026-11-01T00:00:00Z"
# endpoints (asset names) left out of the ingestion, comma-separated
EXCLUDE_ENV = "BENCH_EXCLUDE_ENDPOINTS"


def step_timings(pipeline: Any) -> dict[str, float]:
    """Seconds per dlt step (extract, normalize, load) of the pipeline's last run."""
    trace = pipeline.last_trace
    if trace is None:
        return {}
    return {s.step: round((s.finished_at - s.started_at).total_seconds(), 3) for s in trace.steps
            if s.finished_at is not None}


def ingest() -> None:
    import dagster as dg

    from incident_assets.destination import current_destination
    from incident_assets.defs.incident_api.assets import incident_api_assets
    from incident_assets.defs.resources import project_resources

    excluded = {e for e in os.environ.get(EXCLUDE_ENV, "").split(",") if e}
    keys = [k for k in incident_api_assets.keys if k.path[-1] not in excluded]
    started = time.perf_counter()
    result = dg.materialize([incident_api_assets], resources=project_resources(),
                            selection=keys if excluded else None)
    seconds = time.perf_counter() - started
    assert result.success
    pipeline = current_destination().pipeline()  # restores the working dir the run used, trace included
    trace = pipeline.last_trace
    rows = {}
    if trace is not None and trace.last_normalize_info is not None:
        rows = dict(trace.last_normalize_info.row_counts)
    emit({"seconds": seconds, "steps": step_timings(pipeline), "rows_normalized": rows})


def reports() -> None:
    import dagster as dg

    from incident_assets.defs.reliability.assets import report_assets, report_run_config
    from incident_assets.defs.resources import project_resources

    started, cpu_started = time.perf_counter(), time.process_time()
    result = dg.materialize(
        [*report_assets],
        resources=project_resources(),
        run_config=report_run_config(as_of=AS_OF),
    )
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    assert result.success
    counts = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        counts[materialization.asset_key.path[-1]] = materialization.metadata["dagster/row_count"].value
    # the run's own CPU seconds (DuckDB's threads included), not the interpreter's start-up
    emit({"seconds": seconds, "cpu_s": round(cpu_s, 3), "report_rows": counts})


def emit(result: dict) -> None:
    from benchmarks.measure import emit as _emit

    _emit(result)


if __name__ == "__main__":
    {"ingest": ingest, "reports": reports}[sys.argv[1]]()
