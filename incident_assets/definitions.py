"""The code location: one `defs` per system folder, merged.

Modules, not their `defs`, are imported: Dagster refuses a module with two Definitions objects.
"""

import dagster as dg

from incident_assets.incident_api import defs as incident_api
from incident_assets.operations import defs as operations
from incident_assets.operations.freshness import apply_freshness_policies
from incident_assets.reliability import defs as reliability
from incident_assets.resources import project_resources

# Every step of a run in one process, one after another: the destination takes one writer
# (DuckDB) and a step's own process would add seconds of start-up to each (see the README's
# report-run benchmark). A step runs once the outputs it reads exist, even when an upstream
# step failed after yielding them: an endpoint that did not load stops only the reports
# that read it, and the run still ends red.
EXECUTOR = dg.in_process_executor.configured(
    {"step_dependency_config": {"require_upstream_step_success": False}}, name="in_process_isolated"
)

# every asset gets the daily freshness policy (operations/freshness.py) unless it sets its own
defs = apply_freshness_policies(dg.Definitions.merge(
    incident_api.defs, reliability.defs, operations.defs,
    dg.Definitions(resources=project_resources(), executor=EXECUTOR),
))
