"""The code location: one `defs` per system folder, merged.

Modules, not their `defs`, are imported: Dagster refuses a module with two Definitions objects.
"""

import dagster as dg

from incident_assets.incident_api import defs as incident_api
from incident_assets.operations import defs as operations
from incident_assets.reliability import defs as reliability

defs = dg.Definitions.merge(incident_api.defs, reliability.defs, operations.defs)
