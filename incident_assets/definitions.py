"""The code location: one `defs` per system folder, merged."""

import dagster as dg

from incident_assets.incident_api.defs import defs as incident_api_defs

defs = dg.Definitions.merge(incident_api_defs)
