"""Data-quality issues: incidents per problem, and the first issues of each problem."""

from __future__ import annotations

import plotly.graph_objects as go

from incident_assets.reliability.html.charts import COLORS, styled
from incident_assets.reliability.html.parts import NO_DATA, Chart, Column, Part, Section, Table
from incident_assets.reliability.html.reader import ReportReader, report_table

ISSUES_PER_PROBLEM = 5
COUNTS_SQL = (f"select problem, count(*) as n from {report_table('data_quality_issues')} "
              f"group by problem order by n desc, problem")
ISSUES_SQL = (f"select problem, number, name, detail, incident_url from ("
              f"select q.problem, q.number, f.name, q.detail, f.incident_url, q.incident_id, "
              f"row_number() over (partition by q.problem order by q.number, q.incident_id) as nth "
              f"from {report_table('data_quality_issues')} as q "
              f"left join {report_table('incident_facts')} as f on f.incident_id = q.incident_id) as ranked "
              f"where nth <= {ISSUES_PER_PROBLEM} order by problem, number, incident_id")
ISSUE_COLUMNS = (Column("problem", "problem"), Column("number", "incident", lambda n: f"#{n}", link="incident_url"),
                 Column("name", "incident name"), Column("detail", "detail"))


def data_quality(reader: ReportReader) -> list[Part]:
    """Incidents per data-quality problem, and the first rows of the issue list."""
    counts = reader.rows(COUNTS_SQL)
    if not counts:
        return [NO_DATA]
    fig = go.Figure(go.Bar(x=[r["problem"] for r in counts], y=[r["n"] for r in counts], marker_color=COLORS["warn"]))
    styled(fig, "incidents")
    return [Chart(fig, "data-quality-chart"),
            Table(reader.rows(ISSUES_SQL), ISSUE_COLUMNS, reader.count("data_quality_issues"),
                  f"issues (up to {ISSUES_PER_PROBLEM} per problem)", "data_quality_issues")]


SECTION = Section(
    "data-quality", "Data-quality issues", "Incidents whose records look wrong.",
    {"data_quality_issues": ("problem", "incident_id", "number", "detail"),
     "incident_facts": ("incident_id", "name", "incident_url")},
    data_quality)
