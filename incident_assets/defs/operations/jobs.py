"""The job that materializes everything (the sensors over all jobs are in `sensors.py`).

Freshness over all assets is `freshness.apply_freshness_policies`, applied to the loaded
definitions in `incident_assets/definitions.py` (it maps asset specs, which a merge cannot do).
"""

import dagster as dg

ALL_ASSETS_JOB_NAME = "all_assets_job"

all_assets_job = dg.define_asset_job(
    ALL_ASSETS_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Every asset (ingestion, then reports) with its checks: what `make demo` does.",
)
