"""The code location: every definition under `incident_assets/defs/`, one folder per system,
found by Dagster's `load_from_defs_folder`; here only what applies to all of them."""

from pathlib import Path

import dagster as dg

from incident_assets.defs.operations.freshness import apply_freshness_policies

# Every step of a run in one process, one after another: the destination takes one writer
# (DuckDB) and a step's own process would add seconds of start-up to each (see the README's
# report-run benchmark). A step runs once the outputs it reads exist, even when an upstream
# step failed after yielding them: an endpoint that did not load stops only the reports
# that read it, and the run still ends red.
EXECUTOR = dg.in_process_executor.configured(
    {"step_dependency_config": {"require_upstream_step_success": False}}, name="in_process_isolated"
)

# every asset gets the daily freshness policy (defs/operations/freshness.py) unless it sets its own
defs = apply_freshness_policies(dg.Definitions.merge(
    dg.load_from_defs_folder(path_within_project=Path(__file__).parent),
    dg.Definitions(executor=EXECUTOR),
))
