"""Tests of the reports, `incident_assets/reliability` and `incident_assets/defs/reliability`: SQL, golden numbers, assets, checks, HTML."""
