"""The ingestion assets' keys: one asset per endpoint of the dlt source, `incident_api/<endpoint>`."""

import dagster as dg

from incident_assets.incident_api.endpoints import ingestion_asset_path


def ingestion_asset_key(table: str) -> dg.AssetKey:
    """The key of the ingestion asset that loads `table`: `incident_api/<endpoint>`. A child
    table (`incidents__milestones`) is loaded by its endpoint's asset (`incident_api/incidents`)."""
    return dg.AssetKey(ingestion_asset_path(table))
