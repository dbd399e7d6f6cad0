"""The offline HTML report, built from the golden input."""

from __future__ import annotations

import re

from incident_assets.reliability.html_report import SECTIONS, write_html_report
from incident_assets.reliability.runner import ReportParams, run_reports
from incident_assets_tests.reliability_inputs import AS_OF, incident, loaded_destination, ms

EXPECTED_SECTIONS = {
    "incidents-per-month": "Incidents per month by severity",
    "mtta-mttr": "MTTA and MTTR trends (p50 / p90)",
    "availability": "Availability per service",
    "error-budget": "Error-budget burn per service",
    "open-backlog": "Open incident backlog",
    "change-failure": "Change failure rate",
    "retrospectives": "Retrospective completion",
    "data-quality": "Data-quality issues",
}


def test_html_report_is_complete_and_offline(tmp_path):
    dest = loaded_destination("duckdb", tmp_path)
    path = tmp_path / "reports" / "reliability.html"
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        sections = write_html_report(sql, path)
    page = path.read_text(encoding="utf-8")
    assert sections == list(EXPECTED_SECTIONS) == [s.id for s in SECTIONS]
    for section_id, title in EXPECTED_SECTIONS.items():
        assert f'<section id="{section_id}"><h2>{title.replace("&", "&amp;")}</h2>' in page
        # every section has a chart with data, not the empty placeholder
        assert f'id="{section_id}-chart"' in page
    assert "No data." not in page
    assert not re.search(r"<script[^>]+src=[\"']?https?:", page, re.IGNORECASE)
    assert "Plotly" in page and len(page) > 1_000_000  # plotly.js inlined
    assert "As of 2024-03-15 12:00:00+00:00" in page
    assert "svc-ghost" in page  # the data-quality table
    assert not path.with_suffix(".html.tmp").exists()


def test_html_report_on_empty_tables(tmp_path):
    bare = incident(1, "SEV1", "2024-03-01 10:00", [ms("resolved", "2024-03-01 11:00")], [])
    dest = loaded_destination("duckdb", tmp_path, {"incidents": [bare]})
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        write_html_report(sql, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count('<p class="empty">No data.</p>') == 4  # availability, budget, changes, data quality
