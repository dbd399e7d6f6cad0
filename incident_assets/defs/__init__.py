"""The Dagster side of the project, one folder per system, loaded whole by
`dg.load_from_defs_folder` (incident_assets/definitions.py): every asset, check, job, schedule,
sensor and the resources found in these modules are the code location's."""
