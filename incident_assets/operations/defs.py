"""What operations contributes to the code location: sensors over all jobs and one job that
materializes everything. Merged in `incident_assets/definitions.py` next to the systems' `defs`.

Freshness over all assets is `freshness.apply_freshness_policies`, applied to definitions (it
maps asset specs, which a merge cannot do).
"""

import dagster as dg

from incident_assets.operations.sensors import automation_condition_sensor, run_failure_recorder

ALL_ASSETS_JOB_NAME = "all_assets_job"

all_assets_job = dg.define_asset_job(
    ALL_ASSETS_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Every asset (ingestion, then reports) with its checks: what `make demo` does.",
)

defs = dg.Definitions(
    jobs=[all_assets_job],
    sensors=[run_failure_recorder, automation_condition_sensor],
)
