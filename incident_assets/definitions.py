"""The code location: one `defs` per system folder, merged.

Modules, not their `defs`, are imported: Dagster refuses a module with two Definitions objects.
"""

import dagster as dg

from incident_assets.incident_api import defs as incident_api
from incident_assets.operations import defs as operations
from incident_assets.operations.freshness import apply_freshness_policies
from incident_assets.reliability import defs as reliability
from incident_assets.resources import project_resources

# every asset gets the daily freshness policy (operations/freshness.py) unless it sets its own
defs = apply_freshness_policies(dg.Definitions.merge(
    incident_api.defs, reliability.defs, operations.defs, dg.Definitions(resources=project_resources())
))
