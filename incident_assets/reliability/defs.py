"""What the reliability system contributes to the code location: the report tables and the
HTML report (both refreshed by their eager automation conditions after ingestion)."""

import dagster as dg

from incident_assets.reliability.assets import reliability_assets, reliability_html_report

defs = dg.Definitions(assets=[reliability_assets, reliability_html_report])
