"""What the reliability system contributes to the code location: one asset per report table
and the HTML report (both refreshed by their eager automation conditions after ingestion)."""

import dagster as dg

from incident_assets.reliability.assets import reliability_html_report, report_assets

defs = dg.Definitions(assets=[*report_assets, reliability_html_report])
