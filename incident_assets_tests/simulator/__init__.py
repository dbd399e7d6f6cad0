"""Tests of the bundled API simulator, `incident_assets/simulator`, its answers checked against the OpenAPI file."""
