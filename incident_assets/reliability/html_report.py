"""The offline HTML reliability review: plotly charts over the small report tables.

The plotly JS is inlined once in the page head, so the file opens without any network.
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from incident_assets.settings import REPORT_SCHEMA

T = f"{REPORT_SCHEMA}."
CHARTED_TABLES = (
    "incident_volume_monthly", "mttx_monthly", "service_reliability_monthly", "slo_error_budget",
    "open_incident_backlog", "change_failure_monthly", "retrospective_followthrough_monthly",
    "data_quality_issues",
)


def fetch(sql_client: Any, query: str) -> list[dict[str, Any]]:
    with sql_client.execute_query(query) as cursor:
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def mon(value: Any) -> str:
    """Months as category labels ('2024-01'), so the axis shows one tick per month."""
    return str(value)[:7]


def num(value: Any) -> float | None:
    return None if value is None else float(value)


def layout(fig: go.Figure, y_title: str, **kwargs: Any) -> go.Figure:
    fig.update_layout(height=420, margin=dict(l=60, r=60, t=30, b=50), yaxis_title=y_title,
                      xaxis_type="category", yaxis_rangemode="tozero",
                      legend=dict(orientation="h", y=-0.15), template="plotly_white", **kwargs)
    return fig


def incidents_per_month(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select month, dimension_id as severity, incidents_started from {T}incident_volume_monthly "
                      f"where dimension = 'severity' and incidents_started > 0 order by month, severity")
    by_severity: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_severity[r["severity"]].append(r)
    fig = go.Figure([go.Bar(name=s, x=[mon(r["month"]) for r in rs], y=[r["incidents_started"] for r in rs])
                     for s, rs in sorted(by_severity.items())])
    return layout(fig, "incidents started", barmode="stack") if rows else None


def mttx_trends(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select month, metric, p50_seconds, p90_seconds from {T}mttx_monthly "
                      f"where dimension = 'all' and metric in ('acknowledge', 'resolve') order by month")
    fig = go.Figure()
    for metric, label in (("acknowledge", "MTTA"), ("resolve", "MTTR")):
        picked = [r for r in rows if r["metric"] == metric]
        for stat, dash in (("p50", "solid"), ("p90", "dot")):
            fig.add_trace(go.Scatter(name=f"{label} {stat}", x=[mon(r["month"]) for r in picked],
                                     y=[None if r[f"{stat}_seconds"] is None else float(r[f"{stat}_seconds"]) / 60
                                        for r in picked],
                                     mode="lines+markers", line=dict(dash=dash)))
    return layout(fig, "minutes") if rows else None


def availability(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select month, service_name, availability_pct from {T}service_reliability_monthly "
                      f"order by service_name, month")
    by_service: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_service[r["service_name"] or "?"].append(r)
    fig = go.Figure([go.Scatter(name=s, x=[mon(r["month"]) for r in rs], y=[num(r["availability_pct"]) for r in rs],
                                mode="lines+markers") for s, rs in by_service.items()])
    return layout(fig, "availability %") if rows else None


def error_budget(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select service_name, slo_target_pct, budget_consumed_pct, burn_rate from {T}slo_error_budget "
                      f"order by budget_consumed_pct desc, service_name")
    fig = go.Figure([go.Bar(name="budget consumed %", x=[r["service_name"] for r in rows],
                            y=[num(r["budget_consumed_pct"]) for r in rows],
                            text=[f"{num(r['budget_consumed_pct']) or 0:,.0f}% (target {num(r['slo_target_pct'])}%, "
                                  f"burn {num(r['burn_rate']) or 0:.2f}x)" for r in rows], textposition="outside")])
    fig.add_hline(y=100, line_dash="dash", annotation_text="budget exhausted")
    return layout(fig, "% of 30-day error budget") if rows else None


def open_backlog(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select severity, n_open, n_unacknowledged from {T}open_incident_backlog order by severity")
    fig = go.Figure([go.Bar(name="open", x=[r["severity"] for r in rows], y=[r["n_open"] for r in rows]),
                     go.Bar(name="unacknowledged", x=[r["severity"] for r in rows],
                            y=[r["n_unacknowledged"] for r in rows])])
    return layout(fig, "incidents", barmode="group") if rows else None


def change_failure(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select month, n_changes, change_failure_rate from {T}change_failure_monthly "
                      f"where service_id = 'all' order by month")
    fig = go.Figure([
        go.Bar(name="changes", x=[mon(r["month"]) for r in rows], y=[r["n_changes"] for r in rows], yaxis="y2",
               opacity=0.4),
        go.Scatter(name="change failure rate %", x=[mon(r["month"]) for r in rows], mode="lines+markers",
                   y=[None if r["change_failure_rate"] is None else 100 * float(r["change_failure_rate"])
                      for r in rows]),
    ])
    return layout(fig, "change failure rate %",
                  yaxis2=dict(title="changes", overlaying="y", side="right", rangemode="tozero")) if rows else None


def retrospectives(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select month, completion_rate, n_overdue from {T}retrospective_followthrough_monthly "
                      f"where severity = 'all' order by month")
    fig = go.Figure([
        go.Scatter(name="completion %", x=[mon(r["month"]) for r in rows], mode="lines+markers",
                   y=[100 * float(r["completion_rate"]) for r in rows]),
        go.Bar(name="overdue", x=[mon(r["month"]) for r in rows], y=[r["n_overdue"] for r in rows], yaxis="y2",
               opacity=0.4),
    ])
    return layout(fig, "retrospectives completed %",
                  yaxis2=dict(title="overdue", overlaying="y", side="right", rangemode="tozero")) if rows else None


def data_quality(sql: Any) -> go.Figure | None:
    rows = fetch(sql, f"select problem, count(*) as n from {T}data_quality_issues group by problem order by n desc")
    fig = go.Figure([go.Bar(x=[r["problem"] for r in rows], y=[r["n"] for r in rows])])
    return layout(fig, "incidents") if rows else None


def data_quality_table(sql: Any) -> str:
    rows = fetch(sql, f"select problem, incident_id, number, detail from {T}data_quality_issues "
                      f"order by problem, number limit 50")
    if not rows:
        return ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[c] if r[c] is not None else ''))}</td>"
                                    for c in ("problem", "incident_id", "number", "detail")) + "</tr>" for r in rows)
    return ("<table><thead><tr><th>problem</th><th>incident</th><th>number</th><th>detail</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blurb: str
    chart: Callable[[Any], go.Figure | None]
    extra: Callable[[Any], str] | None = None


SECTIONS = (
    Section("incidents-per-month", "Incidents per month by severity",
            "Reportable incidents by month of start.", incidents_per_month),
    Section("mtta-mttr", "MTTA and MTTR trends (p50 / p90)",
            "Minutes from start to acknowledgement and to resolution, all reportable incidents.", mttx_trends),
    Section("availability", "Availability per service",
            "Share of the month without impact (current month up to as_of).", availability),
    Section("error-budget", "Error-budget burn per service",
            "Share of the 30-day error budget consumed at as_of.", error_budget),
    Section("open-backlog", "Open incident backlog", "Reportable incidents open at as_of.", open_backlog),
    Section("change-failure", "Change failure rate",
            "Changes followed by a reportable incident on the same service within the change window.",
            change_failure),
    Section("retrospectives", "Retrospective completion",
            "Resolved incidents whose retrospective was completed; overdue ones.", retrospectives),
    Section("data-quality", "Data-quality issues", "Incidents whose records look wrong.", data_quality,
            data_quality_table),
)

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
section { margin-bottom: 2.5rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
p.blurb { color: #555; } p.empty { color: #999; font-style: italic; }
table { border-collapse: collapse; font-size: .85rem; } td, th { border: 1px solid #ddd; padding: .25rem .5rem; }
nav a { margin-right: 1rem; }
"""


def render_html(sql_client: Any) -> tuple[str, list[str]]:
    as_of = fetch(sql_client, f"select max(as_of) as as_of from {T}incident_facts")[0]["as_of"]
    parts = []
    for section in SECTIONS:
        fig = section.chart(sql_client)
        body = (fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"{section.id}-chart")
                if fig is not None else '<p class="empty">No data.</p>')
        extra = section.extra(sql_client) if section.extra else ""
        parts.append(f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>'
                     f'<p class="blurb">{html.escape(section.blurb)}</p>{body}{extra}</section>')
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in SECTIONS)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reliability review</title>"
        f"<style>{STYLE}</style><script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        f"<h1>Reliability review</h1><p>As of {html.escape(str(as_of))}; generated {generated}.</p>"
        f"<nav>{nav}</nav>{''.join(parts)}</body></html>"
    )
    return page, [s.id for s in SECTIONS]


def write_html_report(sql_client: Any, path: Path) -> list[str]:
    """Writes the page (atomically: a viewer never sees half a file); returns the section ids."""
    page, sections = render_html(sql_client)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return sections
