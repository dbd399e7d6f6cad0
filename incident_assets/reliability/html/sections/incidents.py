"""Incidents: how many started per month by severity, and the backlog open at as_of (per severity,
its ages in days, and the open incidents themselves, linked to the incident tool)."""

from __future__ import annotations

from collections import defaultdict

import plotly.graph_objects as go

from incident_assets.reliability.html.charts import COLORS, date_axes, month_bars, severity_colors, styled
from incident_assets.reliability.html.parts import NO_DATA, TABLE_ROWS, Chart, Column, Note, Part, Section, Table, fixed
from incident_assets.reliability.html.reader import ReportReader, month_label, report_table, severity_sql

SEVERITY = severity_sql("dimension_id")
PER_MONTH_SQL = (f"select month, {SEVERITY} as severity, sum(incidents_started) as incidents_started "
                 f"from {report_table('incident_volume_monthly')} "
                 f"where dimension = 'severity' group by month, {SEVERITY} order by month, severity")


def incidents_per_month(reader: ReportReader) -> list[Part]:
    """Stacked bars of reportable incidents started per month, by severity."""
    rows = reader.rows(PER_MONTH_SQL)
    if not rows:
        return [NO_DATA]
    by_severity: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_severity[r["severity"]].append(r)
    colors = severity_colors(sorted(by_severity))
    fig = go.Figure([month_bars(name=severity, x=[month_label(r["month"]) for r in picked],
                                y=[r["incidents_started"] for r in picked], marker_color=colors[severity])
                     for severity, picked in sorted(by_severity.items())])
    return [Chart(date_axes(styled(fig, "incidents started", barmode="stack")), "incidents-per-month-chart")]


PER_MONTH = Section(
    "incidents-per-month", "Incidents per month by severity",
    "Reportable incidents by month of start; the last month runs up to as_of.",
    {"incident_volume_monthly": ("month", "dimension", "dimension_id", "incidents_started")},
    incidents_per_month)

BACKLOG_SEVERITY = severity_sql("severity")
BACKLOG_PER_SEVERITY_SQL = (f"select {BACKLOG_SEVERITY} as severity, sum(n_open) as n_open, "
                            f"sum(n_unacknowledged) as n_unacknowledged "
                            f"from {report_table('open_incident_backlog')} where severity <> 'all' "
                            f"group by {BACKLOG_SEVERITY} order by severity")
BACKLOG_AGES_SQL = (f"select n_open, n_unacknowledged, age_p50_seconds / 86400 as age_p50_days, "
                    f"age_p90_seconds / 86400 as age_p90_days, age_max_seconds / 86400 as age_max_days "
                    f"from {report_table('open_incident_backlog')} where severity = 'all'")
BACKLOG_AGES = (
    Column("n_open", "open"), Column("n_unacknowledged", "unacknowledged"),
    Column("age_p50_days", "age p50 (days)", fixed(1)), Column("age_p90_days", "age p90 (days)", fixed(1)),
    Column("age_max_days", "age max (days)", fixed(1)),
)
OPEN_INCIDENTS_SQL = (
    f"select number, name, {BACKLOG_SEVERITY} as severity, started_at, age_seconds / 86400 as age_days, "
    f"case when acknowledged_at is null then 'no' else 'yes' end as acknowledged, incident_url "
    f"from {report_table('incident_facts')} "
    f"where is_reportable and is_open and started_at <= as_of order by started_at, incident_id limit {TABLE_ROWS}")
OPEN_INCIDENTS = (
    Column("number", "incident", lambda n: f"#{n}", link="incident_url"), Column("name", "name", link="incident_url"),
    Column("severity", "severity"), Column("started_at", "started"), Column("age_days", "age (days)", fixed(1)),
    Column("acknowledged", "acknowledged"),
)


def open_backlog(reader: ReportReader) -> list[Part]:
    """Open and unacknowledged incidents per severity, their ages in days, and the open incidents
    themselves, oldest first, each linked to the incident tool."""
    per_severity = reader.rows(BACKLOG_PER_SEVERITY_SQL)
    if not any(r["n_open"] for r in per_severity):
        return [Note("empty", "No open incidents at as_of.")]
    severities = [r["severity"] for r in per_severity]
    fig = go.Figure([go.Bar(name="open", x=severities, y=[r["n_open"] for r in per_severity],
                            marker_color=COLORS["main"]),
                     go.Bar(name="unacknowledged", x=severities, y=[r["n_unacknowledged"] for r in per_severity],
                            marker_color=COLORS["bad"])])
    styled(fig, "incidents open at as_of", height=340, barmode="group")
    fig.update_yaxes(tickformat=",d", dtick=max(1, max(r["n_open"] or 0 for r in per_severity) // 8))
    (summary,) = reader.rows(BACKLOG_AGES_SQL)
    return [Chart(fig, "open-backlog-chart"),
            Table([summary], BACKLOG_AGES, 1, "row (all severities)", "open_incident_backlog"),
            Table(reader.rows(OPEN_INCIDENTS_SQL), OPEN_INCIDENTS, int(summary["n_open"]), "open incidents",
                  "incident_facts", caption="Open incidents, oldest first")]


OPEN_BACKLOG = Section(
    "open-backlog", "Open incident backlog",
    "Reportable incidents open at as_of, by severity (a missing severity, UNSET included, is \"not set\"), "
    "their ages in days, and the incidents themselves, linked to the incident tool.",
    {"open_incident_backlog": ("severity", "n_open", "n_unacknowledged", "age_p50_seconds",
                               "age_p90_seconds", "age_max_seconds"),
     "incident_facts": ("incident_id", "number", "name", "severity", "started_at", "acknowledged_at",
                        "age_seconds", "incident_url", "is_reportable", "is_open", "as_of")},
    open_backlog)
