"""The offline HTML reliability review: plotly charts and short tables over the report tables.

The plotly JS is inlined once in the page head, so the file opens without any network.
Each section (`sections/`) declares the report tables and columns it reads (`Section.reads`)
beside its SQL; the asset's dependencies come from these declarations (`REPORT_TABLES`). A table
or column that is not there yet (its asset never materialized, or an older table shape) turns
that section into a "not built" note instead of failing the page; a table without rows shows
"No data". The HTML and CSS are in `templates/` (Jinja2, autoescaped); `page.py` assembles them.
"""

from incident_assets.reliability.html.page import RenderedPage, render_html, write_html_report
from incident_assets.reliability.html.reader import ReportReader, report_table
from incident_assets.reliability.html.sections import REPORT_TABLES, SECTIONS

__all__ = ["REPORT_TABLES", "SECTIONS", "RenderedPage", "ReportReader", "render_html", "report_table",
           "write_html_report"]
