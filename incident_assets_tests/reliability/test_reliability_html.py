"""The offline HTML report, built from the golden input (`reliability_inputs.py`) plus the
first quarter's follow-ups and alerts (`reliability_inputs_operations.py`), so every chart is
exercised; the browser test looks at the rendered page.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from incident_assets.defs.reliability.assets import reliability_html_report
from incident_assets.reliability.html import REPORT_TABLES, SECTIONS, report_table, write_html_report
from incident_assets.reliability.runner import ReportParams, report_tables, run_reports
from incident_assets_tests.reliability_inputs import AS_OF, GOLDEN, incident, loaded_destination, ms
from incident_assets_tests.reliability_inputs_operations import GOLDEN_Q1_ALERTS, GOLDEN_Q1_TICKETS
from incident_assets_tests.reliability_inputs_trends import AS_OF_TRENDS, TRENDS

WITH_OPERATIONS = {**GOLDEN, "tickets": GOLDEN_Q1_TICKETS, "alerts": GOLDEN_Q1_ALERTS}

EXPECTED_SECTIONS = {
    "what-changed": "What changed",
    "incidents-per-month": "Incidents per month by severity",
    "mtta-mttr": "Time to detect, acknowledge, mitigate and resolve (p50 / p90)",
    "availability": "Availability: the 8 worst services",
    "error-budget": "Error-budget burn per service",
    "open-backlog": "Open incident backlog",
    "change-failure": "Change failure rate",
    "retrospectives": "Retrospective completion",
    "followups": "Follow-up action items",
    "alert-noise": "Alert noise per team",
    "responder-load": "Responder load",
    "data-quality": "Data-quality issues",
}
GOLDEN_MONTHS = ["2024-01-01", "2024-02-01", "2024-03-01"]


def figure(page: str, div_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The data and layout plotly draws in a chart div, as written into the page."""
    call = re.search(r'Plotly\.newPlot\(\s*"' + re.escape(div_id) + r'",\s*', page)
    assert call, f"no chart {div_id}"
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(page, call.end())
    layout, _ = decoder.raw_decode(page, page.index("{", end))
    return data, layout


def traces(page: str, div_id: str) -> dict[str, dict[str, Any]]:
    """The chart's traces by name (the first of each name)."""
    data, _ = figure(page, div_id)
    named: dict[str, dict[str, Any]] = {}
    for trace in data:
        named.setdefault(trace.get("name"), trace)
    return named


@pytest.fixture(scope="module")
def golden_page(tmp_path_factory) -> tuple[str, Any]:
    """The report on the golden input (tables this build lacks completed by hand): page text and result."""
    tmp = tmp_path_factory.mktemp("html")
    dest = loaded_destination("duckdb", tmp, WITH_OPERATIONS)
    path = tmp / "reports" / "reliability.html"
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        written = write_html_report(sql, path)
    assert not path.with_suffix(".html.tmp").exists()
    return path.read_text(encoding="utf-8"), written


def test_html_report_is_complete_and_offline(golden_page):
    page, written = golden_page
    assert written.sections == list(EXPECTED_SECTIONS) == [s.id for s in SECTIONS]
    assert written.not_built == [] and written.html == page
    for section_id, title in EXPECTED_SECTIONS.items():
        assert f'<section id="{section_id}"><h2>{title}</h2>' in page
        if section_id != "what-changed":  # words only
            assert f'id="{section_id}-chart"' in page  # every other section has a chart with data
    assert "No data." not in page and "Not built" not in page
    assert not re.search(r"<script[^>]+src=[\"']?https?:", page, re.IGNORECASE)
    assert "Plotly" in page and len(page) > 1_000_000  # plotly.js inlined
    assert "As of 2024-03-15 12:00 UTC" in page
    # the data-quality table names services and incidents, never by their ids
    assert "<td>#12</td><td>Incident 12</td><td>Ghost</td>" in page and "svc-ghost" not in page
    assert not re.search(r"\bNaN\b|\bNone\b|undefined", re.sub(r"<script.*?</script>", "", page, flags=re.DOTALL))


def test_time_axes_are_dates_in_order(golden_page):
    page, _ = golden_page
    severities = traces(page, "incidents-per-month-chart")
    # I1, I2 in January, I5 in February, I10 in March
    assert (severities["SEV1"]["x"], severities["SEV1"]["y"]) == (GOLDEN_MONTHS, [2, 1, 1])
    for div_id in ("incidents-per-month-chart", "mtta-mttr-chart", "availability-chart", "change-failure-chart",
                   "retrospectives-chart", "followups-chart", "alert-noise-chart"):
        data, layout = figure(page, div_id)
        axes = [v for k, v in layout.items() if k.startswith("xaxis")]
        assert axes and all(axis["type"] == "date" for axis in axes), div_id
        for trace in data:
            assert trace["x"] == sorted(trace["x"]), (div_id, trace.get("name"))


def test_mtta_and_mttr_have_panels_and_units_of_their_own(golden_page):
    page, _ = golden_page
    named = traces(page, "mtta-mttr-chart")
    # MTTA January: I1 600 s, I2 1200 s, I3 900 s, I12 600 s -> p50 750 s = 12.5 minutes
    assert named["MTTA p50"]["y"][0] == pytest.approx(12.5) and named["MTTA p50"]["yaxis"] == "y"
    # MTTR January: 5400, 7200 (I11), 7200, 10800, 14400 s -> p50 7200 s = 2 hours, in the lower panel
    assert named["MTTR p50"]["y"][0] == pytest.approx(2.0) and named["MTTR p50"]["yaxis"] == "y2"
    _, layout = figure(page, "mtta-mttr-chart")
    assert (layout["yaxis"]["title"]["text"], layout["yaxis2"]["title"]["text"]) == ("minutes", "hours")


def test_mttx_points_carry_their_interval_and_incident_count(golden_page):
    page, _ = golden_page
    mttr = traces(page, "mtta-mttr-chart")["MTTR p50"]
    # January: 5400, 7200, 7200, 10800, 14400 s; n = 5 bounds the median by x(1) and x(5):
    # 2 h - 1.5 h = 0.5 h below, 4 h - 2 h = 2 h above
    assert mttr["error_y"]["arrayminus"][0] == pytest.approx(0.5) and mttr["error_y"]["array"][0] == pytest.approx(2.0)
    assert mttr["text"][0] == "5" and mttr["customdata"][0] == "n=5, 95 % interval 90 min to 4.0 h"
    # January's p90 (n = 5): x(4) below, no upper bound (drawn to the point, said on hover)
    p90 = traces(page, "mtta-mttr-chart")["MTTR p90"]
    assert p90["error_y"]["array"][0] is None and p90["customdata"][0].endswith("to unbounded")


def test_what_changed_says_no_evidence_as_such(golden_page):
    page, _ = golden_page
    section = page.split('<section id="what-changed">')[1].split("</section>")[0]
    assert ('<p class="no-change">No evidence of a change: no MTTx moved by more than its month-to-month '
            "noise.") in section
    assert "<li" not in section
    assert "2024-02 against 2023-11 to 2024-01: 0 worse, 0 better." in page


def test_what_changed_lists_the_worse_and_better_rows(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, TRENDS)
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF_TRENDS)))
        page = write_html_report(sql, tmp_path / "r.html").html
    section = page.split('<section id="what-changed">')[1].split("</section>")[0]
    assert re.findall(r'<li class="(\w+)"><strong>\w+:</strong> ([^<]+)</li>', section) == [
        ("worse", "MTTR of service Worse: p50 48 min -&gt; 115 min (+142 %, z = 3.1, 6 vs 8 incidents)"),
        ("better", "MTTR of service Better: p50 115 min -&gt; 48 min (-59 %, z = -3.1, 8 vs 6 incidents)")]


def test_availability_shows_the_worst_services_against_their_targets(golden_page):
    page, _ = golden_page
    _, layout = figure(page, "availability-chart")
    # December to February are the complete months (no data in December: January's 44,640 and February's
    # 41,760 minutes). Ranked by the budget those months allowed: API 480 weighted minutes of
    # 86,400 x 0.05 % = 43.2 (1,111 %), Web 300 of 86.4 (347 %), Database 190 of 432 (44 %), Quiet 0
    assert [a["text"] for a in layout["annotations"]] == [
        "API: 1,111 % of budget", "Web: 347 % of budget", "Database: 44 % of budget", "Quiet: 0 % of budget"]
    data, _ = figure(page, "availability-chart")
    targets = [t for t in data if t["name"] == "SLO target %"]
    assert [t["y"] for t in targets] == [[99.95] * 2, [99.9] * 2, [99.5] * 2, [99.95] * 2]
    # one shared scale: down to API's March (65.5 %), up to 100 %
    ranges = {tuple(v["range"]) for k, v in layout.items() if k.startswith("yaxis")}
    assert len(ranges) == 1 and ranges.pop()[0] < 65.52
    assert "availability % (2023-12 to 2024-02)" in page and "error budget consumed % (2023-12 to 2024-02)" in page
    assert "<td>API</td><td>Core</td><td>99.95</td><td>1,111</td><td>99.444</td>" in page
    assert "Showing 4 of 4 services (furthest over their SLO first; the chart shows the same). Full table: " \
           "<code>reliability.service_reliability_monthly</code>" in page


def test_error_budget_is_capped_with_a_visible_100_percent_line(golden_page):
    page, _ = golden_page
    data, layout = figure(page, "error-budget-chart")
    bars = data[0]
    assert bars["orientation"] == "h" and max(bars["x"]) <= 200
    assert layout["xaxis"]["range"][1] == pytest.approx(204)
    line = [s for s in layout["shapes"] if s["x0"] == 100 and s["x1"] == 100]
    assert line and line[0]["line"]["width"] >= 2
    assert any(a["text"] == "100 % = budget exhausted" for a in layout["annotations"])
    assert all(re.fullmatch(r"[\d,]+ %( \(off scale\))?", t) for t in bars["text"])
    assert "Showing 4 of 4 services (most budget consumed first" in page
    # the 30 days ending at as_of (2024-03-15 12:00)
    assert '<p class="window">Window: 2024-02-14 12:00 to 2024-03-15 12:00 UTC (30 days).</p>' in page
    assert layout["xaxis"]["title"]["text"].startswith("% of the error budget of 2024-02-14 12:00 to 2024-03-15")


def test_open_backlog_lists_the_open_incidents_with_ages_in_days(golden_page):
    page, _ = golden_page
    # I9 (SEV2, started Mar 10 12:00, acknowledged) and I10 (SEV1, Mar 14 12:00, not acknowledged)
    assert ("<th>age p50 (days)</th><th>age p90 (days)</th><th>age max (days)</th></tr></thead><tbody><tr>"
            "<td>2</td><td>1</td><td>3.0</td><td>4.6</td><td>5.0</td>") in page
    assert ("<tr><td>#9</td><td>Incident 9</td><td>SEV2</td><td>2024-03-10</td><td>5.0</td><td>yes</td></tr>"
            "<tr><td>#10</td><td>Incident 10</td><td>SEV1</td><td>2024-03-14</td><td>1.0</td><td>no</td></tr>") in page
    assert "(hours)" not in re.search(r'<section id="open-backlog">.*?</section>', page, re.DOTALL).group(0)


def test_one_category_for_a_missing_severity(tmp_path):
    """NULL, the reports' 'none' and the API's 'UNSET' are one bar, "not set"; open incidents
    link to the incident tool."""
    incidents = [incident(1, None, "2024-03-01 10:00", [], []), incident(2, "UNSET", "2024-03-02 10:00", [], []),
                 incident(3, "SEV1", "2024-03-03 10:00", [], [])]
    incidents[0]["incident_url"] = "https://app.example.com/incidents/1"
    incidents[1]["incident_url"] = "javascript:alert(1)"  # never a link
    dest = loaded_destination("duckdb", tmp_path, {"incidents": incidents})
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        page = write_html_report(sql, tmp_path / "r.html").html
    started = traces(page, "incidents-per-month-chart")
    assert sorted(started) == ["SEV1", "not set"] and started["not set"]["y"] == [2]
    backlog = traces(page, "open-backlog-chart")["open"]
    assert backlog["x"] == ["SEV1", "not set"] and backlog["y"] == [1, 2]
    assert '<td><a href="https://app.example.com/incidents/1">#1</a></td>' in page
    assert "<td>#2</td>" in page and 'href="javascript:' not in page

def test_tables_say_how_much_they_show(golden_page):
    page, _ = golden_page
    notes = re.findall(r'<p class="showing">Showing (\d+) of (\d+) ([^.]+)\. Full table: <code>([a-z_.]+)</code>',
                       page)
    tables = {table: (int(shown), int(total)) for shown, total, _, table in notes}
    assert tables == {
        "reliability.service_reliability_monthly": (4, 4),
        "reliability.slo_error_budget": (4, 4),
        "reliability.open_incident_backlog": (1, 1),  # the all row, ages in days
        "reliability.incident_facts": (2, 2),  # the open incidents I9 and I10
        "reliability.alert_noise_weekly": (4, 4),  # Core, Web team, none and all
        "reliability.responder_load_monthly": (2, 2),  # Alice and Bob in January and February
        "reliability.data_quality_issues": (8, 8),  # with I8 and I12 missing an impact condition
    }
    assert page.count("<table>") == len(notes)


def test_report_tables_are_derived_from_the_sections():
    assert REPORT_TABLES[0] == "incident_facts"
    assert set(REPORT_TABLES) == {"incident_facts"} | {t for s in SECTIONS for t in s.reads}
    assert {"followup_monthly", "alert_noise_weekly", "responder_load_monthly"} <= set(REPORT_TABLES)
    deps = {d.asset_key.to_user_string() for d in reliability_html_report.specs_by_key[
        reliability_html_report.key].deps}
    assert deps == {f"reliability/{t}" for t in REPORT_TABLES if t in report_tables()}


def test_missing_tables_show_a_not_built_note(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, WITH_OPERATIONS)
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        sql.execute_sql(f"drop table {report_table('slo_error_budget')}")
        sql.execute_sql(f"alter table {report_table('alert_noise_weekly')} drop column linked_pct")
        written = write_html_report(sql, tmp_path / "r.html")
    assert written.not_built == ["availability", "error-budget", "alert-noise"]
    page = written.html
    assert page.count("Not built yet: table reliability.slo_error_budget does not exist.") == 2
    assert "Not built yet: reliability.alert_noise_weekly has no column linked_pct." in page
    assert 'id="incidents-per-month-chart"' in page  # the rest of the page is there


def test_html_report_on_postgres(tmp_path, postgres_url):
    dest = loaded_destination("postgres", tmp_path, WITH_OPERATIONS, postgres_url=postgres_url)
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        written = write_html_report(sql, tmp_path / "r.html")
    assert written.not_built == [] and "No data." not in written.html
    assert "As of 2024-03-15 12:00 UTC" in written.html
    severities = traces(written.html, "incidents-per-month-chart")
    assert (severities["SEV1"]["x"], severities["SEV1"]["y"]) == (GOLDEN_MONTHS, [2, 1, 1])
    assert "Showing 8 of 8 issues" in written.html


def test_html_report_on_empty_tables(tmp_path):
    bare = incident(1, "SEV1", "2024-03-01 10:00", [ms("resolved", "2024-03-01 11:00")], [])
    dest = loaded_destination("duckdb", tmp_path, {"incidents": [bare]})
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        written = write_html_report(sql, tmp_path / "r.html")
    page = written.html
    assert written.not_built == []
    empty = re.findall(r'<section id="([a-z-]+)"><h2>[^<]*</h2><p class="blurb">[^<]*</p><p class="empty">No data.',
                       page)
    assert empty == ["what-changed", "availability", "error-budget", "change-failure", "followups", "alert-noise", "responder-load",
                     "data-quality"]
    assert '<p class="empty">No open incidents at as_of.</p>' in page


def test_responder_chart_is_sorted_by_what_it_shows(golden_page):
    page, _ = golden_page
    # Alice: 3 incidents (1,681.0 effort hours), Bob: 2 (1,692.7): most incidents on top, not most effort
    bars = traces(page, "responder-load-chart")
    assert bars["started in business hours"]["y"] == ["Bob", "Alice"]  # drawn bottom to top
    totals = [sum(bars[k]["x"][i] for k in bars) for i in range(2)]
    assert totals == [2, 3]
    section = re.search(r'<section id="responder-load">.*?</section>', page, re.DOTALL).group(0)
    assert re.search(r"<tbody><tr><td>Alice</td><td>3</td>.*<tr><td>Bob</td><td>2</td>", section)
