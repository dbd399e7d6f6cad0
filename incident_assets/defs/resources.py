"""The code location's resources, in one place: `resources` registers them in the code location
and the tests pass the same ones (`project_resources()`) to `dg.materialize`."""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_dlt import DagsterDltResource

from incident_assets.destination import DESTINATION_RESOURCE_KEY, destination_resource
from incident_assets.defs.reliability.report_config import REPORT_SETTINGS_KEY, report_settings_resource


def project_resources() -> dict[str, Any]:
    """Every resource an asset or check asks for, configured from the environment as it is now."""
    return {"dlt": DagsterDltResource(), DESTINATION_RESOURCE_KEY: destination_resource(),
            REPORT_SETTINGS_KEY: report_settings_resource()}


@dg.definitions
def resources() -> dg.Definitions:
    """The resources registered in the code location (built when Dagster loads the definitions)."""
    return dg.Definitions(resources=project_resources())
