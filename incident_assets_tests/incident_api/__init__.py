"""Tests of the dlt source, `incident_assets/incident_api` (no Dagster in them but the helpers they share)."""
