"""Ingestion as Dagster sees it: one asset per endpoint of the dlt source (`incident_assets.incident_api`),
their checks, the daily schedule and the new-incident sensor."""
