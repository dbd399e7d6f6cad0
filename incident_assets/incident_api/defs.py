"""What the incident_api system contributes to the code location."""

import dagster as dg

from incident_assets.incident_api.assets import incident_api_assets
from incident_assets.incident_api.checks import incident_api_checks
from incident_assets.incident_api.schedules import daily_ingestion_schedule, incident_api_ingestion_job
from incident_assets.incident_api.sensors import incident_api_incidents_job, new_incident_sensor

defs = dg.Definitions(
    assets=[incident_api_assets],
    asset_checks=incident_api_checks,
    jobs=[incident_api_ingestion_job, incident_api_incidents_job],
    schedules=[daily_ingestion_schedule],
    sensors=[new_incident_sensor],
)
