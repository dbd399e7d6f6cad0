"""What the reliability system contributes to the code location: one asset per report table,
the HTML report (both refreshed by their eager automation conditions after ingestion) and the
regression checks on the report tables (run with their assets; alerting through a webhook when
configured)."""

import dagster as dg

from incident_assets.reliability.assets import reliability_html_report, report_assets
from incident_assets.reliability.checks import report_checks

defs = dg.Definitions(assets=[*report_assets, reliability_html_report], asset_checks=report_checks)
