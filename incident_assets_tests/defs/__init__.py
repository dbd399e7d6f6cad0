"""Tests of the Dagster side, `incident_assets/defs`: ingestion assets and checks, run isolation, operations, the definitions as loaded."""
