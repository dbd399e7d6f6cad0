"""What the incident_api system contributes to the code location."""

import dagster as dg
from dagster_dlt import DagsterDltResource

from incident_assets.incident_api.assets import incident_api_assets

defs = dg.Definitions(
    assets=[incident_api_assets],
    resources={"dlt": DagsterDltResource()},
)
