"""The dlt source for the incident API, in the shape of dlt's verified sources: the factory
(`source.incident_api_source`), the endpoint table, and helpers for HTTP, pacing and the Arrow
path. It imports no Dagster module and runs as `dlt.pipeline(...).run(incident_api_source())`;
the Dagster side of it is `incident_assets/defs/incident_api/`."""
