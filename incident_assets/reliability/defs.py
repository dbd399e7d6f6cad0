"""What the reliability system contributes to the code location: the report tables, the HTML
report (both refreshed by their eager automation conditions after ingestion) and the regression
checks on the report tables (run with their assets; alerting through a webhook when configured)."""

import dagster as dg

from incident_assets.reliability.assets import reliability_assets, reliability_html_report
from incident_assets.reliability.checks import report_checks

defs = dg.Definitions(assets=[reliability_assets, reliability_html_report], asset_checks=report_checks)
