"""Everything Dagster loads, assembled from one folder per system."""

import dagster as dg
from dagster_dlt import DagsterDltResource

from incident_assets.incident_api.assets import incident_api_assets

defs = dg.Definitions(
    assets=[incident_api_assets],
    resources={"dlt": DagsterDltResource()},
)
