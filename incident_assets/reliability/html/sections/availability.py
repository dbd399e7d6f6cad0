"""Service reliability against the SLOs: the worst services' availability in the last complete
months against their targets, and the error budget of the 30 days ending at as_of."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from incident_assets.reliability.html.charts import COLORS, date_axes, month_line, styled
from incident_assets.reliability.html.parts import NO_DATA, TABLE_ROWS, Chart, Column, Note, Part, Section, Table, fixed
from incident_assets.reliability.html.reader import (
    RECENT_MONTHS, ReportReader, as_float, complete_months_before, dates_sql, month_label, report_table, window_label,
)

WORST_SERVICES = 8  # availability panels: the services a reviewer should look at first
BUDGET_CHART_CAP_PCT = 200  # bars beyond this are drawn to the cap and labelled with their value
IMPACT = "cast(sum(r.impact_minutes) as double precision)"
TARGET = "max(b.slo_target_pct)"


def worst_services(reader: ReportReader, months: list[str]) -> list[dict[str, Any]]:
    """Per service over `months`: minutes, availability and the share of the error budget those
    months allowed (downtime at the SLO target = 100 %), furthest over the target first."""
    return reader.rows(
        f"select r.service_id, max(r.service_name) as service_name, max(r.owner_team_name) as owner_team_name, "
        f"sum(r.incident_count) as incident_count, sum(r.incident_minutes) as incident_minutes, "
        f"sum(r.impact_minutes) as impact_minutes, sum(r.maintenance_minutes) as maintenance_minutes, "
        f"100 * (1 - {IMPACT} / sum(r.month_minutes)) as availability_pct, {TARGET} as slo_target_pct, "
        f"100 * {IMPACT} / (sum(r.month_minutes) * (1 - {TARGET} / 100)) as budget_consumed_pct "
        f"from {report_table('service_reliability_monthly')} as r "
        f"left join {report_table('slo_error_budget')} as b on b.service_id = r.service_id "
        f"where r.month in {dates_sql(months)} and r.month_minutes > 0 group by r.service_id "
        f"order by budget_consumed_pct desc nulls last, service_name limit {WORST_SERVICES}")


def worst_services_columns(window: str) -> tuple[Column, ...]:
    return (
        Column("service_name", "service"), Column("owner_team_name", "owner team"),
        Column("slo_target_pct", "SLO target %", fixed(2)),
        Column("budget_consumed_pct", f"error budget consumed % ({window})", fixed(0)),
        Column("availability_pct", f"availability % ({window})", fixed(3)),
        Column("impact_minutes", "weighted impact (minutes)", fixed(0)),
        Column("incident_minutes", "incident open (minutes)", fixed(0)),
        Column("maintenance_minutes", "maintenance (minutes)", fixed(0)),
        Column("incident_count", "incidents", fixed(0)),
    )


def availability(reader: ReportReader) -> list[Part]:
    """The services furthest over their SLO in the last complete months: every month of each against
    its target, one panel each on one shared scale."""
    as_of = reader.as_of()
    months = complete_months_before(as_of) if as_of else []
    worst = worst_services(reader, months) if months else []
    if not worst:
        return [NO_DATA]
    ids = ", ".join("'" + str(w["service_id"]).replace("'", "''") + "'" for w in worst)
    rows = reader.rows(f"select month, service_id, availability_pct from {report_table('service_reliability_monthly')} "
                       f"where service_id in ({ids}) order by month, service_id")
    cols = 4
    n_rows = (len(worst) + cols - 1) // cols
    titles = [f"{w['service_name']}: {as_float(w['budget_consumed_pct']):,.0f} % of budget"
              if w["budget_consumed_pct"] is not None else f"{w['service_name']} (no SLO)" for w in worst]
    fig = make_subplots(rows=n_rows, cols=cols, subplot_titles=titles, vertical_spacing=0.16, horizontal_spacing=0.05,
                        shared_yaxes="all")
    lowest = 100.0
    for i, w in enumerate(worst):
        series = [r for r in rows if r["service_id"] == w["service_id"]]
        x = [month_label(r["month"]) for r in series]
        y = [as_float(r["availability_pct"]) for r in series]
        lowest = min([lowest, *(v for v in y if v is not None)])
        place = dict(row=i // cols + 1, col=i % cols + 1)
        fig.add_trace(month_line(name="availability %", x=x, y=y, line=dict(color=COLORS["main"]),
                                 legendgroup="availability", showlegend=i == 0, hovertemplate="%{y:.3f} %"), **place)
        if w["slo_target_pct"] is not None:
            target = as_float(w["slo_target_pct"])
            lowest = min(lowest, target)
            fig.add_trace(month_line(name="SLO target %", x=[x[0], x[-1]], y=[target] * 2, mode="lines",
                                     line=dict(color=COLORS["bad"], dash="dash"), legendgroup="target",
                                     showlegend=i == 0, hovertemplate="target %{y} %"), **place)
    fig = date_axes(styled(fig, "", height=330 * n_rows, hovermode="closest"), tickformat="%b\n%Y")
    span = 100 - lowest
    fig.update_yaxes(rangemode="normal", ticksuffix=" %", range=[lowest - 0.05 * span, 100 + 0.05 * span])
    (total,), = [tuple(r.values()) for r in reader.rows(
        f"select count(distinct service_id) as n from {report_table('service_reliability_monthly')}")]
    return [Chart(fig, "availability-chart"),
            Table(worst, worst_services_columns(window_label(months)), total,
                  "services (furthest over their SLO first; the chart shows the same)", "service_reliability_monthly")]


AVAILABILITY = Section(
    "availability", f"Availability: the {WORST_SERVICES} worst services",
    f"The services furthest over their SLO in the last {RECENT_MONTHS} complete months, ranked by the "
    "share of those months' error budget they consumed (downtime at the target = 100 %); every month of "
    "each against its target (dashed), all on one scale. Downtime is impact-weighted; the current month "
    "runs up to as_of.",
    {"incident_facts": ("as_of",),
     "service_reliability_monthly": ("month", "service_id", "service_name", "owner_team_name",
                                     "incident_count", "incident_minutes", "impact_minutes",
                                     "maintenance_minutes", "month_minutes", "availability_pct"),
     "slo_error_budget": ("service_id", "slo_target_pct")},
    availability)

BUDGET_SQL = (f"select b.service_name, b.slo_target_pct, b.budget_minutes, b.bad_minutes, "
              f"b.budget_consumed_pct, b.burn_rate, b.worst_incident_id, f.number as worst_incident_number "
              f"from {report_table('slo_error_budget')} as b "
              f"left join {report_table('incident_facts')} as f on f.incident_id = b.worst_incident_id "
              f"order by b.budget_consumed_pct desc, b.service_name")
BUDGET_WINDOW_SQL = (f"select max(as_of) as window_end, max(window_minutes) as window_minutes "
                     f"from {report_table('slo_error_budget')}")
BUDGET_COLUMNS = (
    Column("service_name", "service"), Column("slo_target_pct", "SLO target %", fixed(2)),
    Column("budget_minutes", "budget (minutes)", fixed(1)), Column("bad_minutes", "bad (minutes)", fixed(1)),
    Column("budget_consumed_pct", "budget consumed %", fixed(0)), Column("burn_rate", "burn rate (x)", fixed(2)),
    Column("worst_incident_number", "worst incident (number)"),
)


def budget_color(consumed_pct: float) -> str:
    """Red once the budget is gone, orange past half of it, green below."""
    return COLORS["bad"] if consumed_pct >= 100 else COLORS["warn"] if consumed_pct >= 50 else COLORS["good"]


def budget_window(reader: ReportReader) -> str:
    """'2026-10-02 00:00 to 2026-11-01 00:00 UTC (30 days)': the window the budgets cover, ending at as_of."""
    (row,) = reader.rows(BUDGET_WINDOW_SQL)
    end = row["window_end"].astimezone(timezone.utc)
    minutes = float(row["window_minutes"])
    start = end - timedelta(minutes=minutes)
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({minutes / 1440:g} days)"


def error_budget(reader: ReportReader) -> list[Part]:
    """Budget consumed per service (capped bars, the real value in the label) against the 100 % line."""
    rows = reader.rows(BUDGET_SQL)
    if not rows:
        return [NO_DATA]
    window = budget_window(reader)
    charted = list(reversed(rows[:TABLE_ROWS]))  # horizontal bars: worst on top
    consumed = [as_float(r["budget_consumed_pct"]) or 0.0 for r in charted]
    fig = go.Figure(go.Bar(
        orientation="h", y=[r["service_name"] for r in charted], x=[min(c, BUDGET_CHART_CAP_PCT) for c in consumed],
        marker_color=[budget_color(c) for c in consumed], name="budget consumed %",
        text=[f"{c:,.0f} %" + (" (off scale)" if c > BUDGET_CHART_CAP_PCT else "") for c in consumed],
        textposition="auto", insidetextanchor="end", cliponaxis=False,
        customdata=[[as_float(r["burn_rate"]) or 0.0, as_float(r["slo_target_pct"])] for r in charted],
        hovertemplate="%{text} of budget, burn rate %{customdata[0]:.1f}x, SLO %{customdata[1]} %<extra></extra>"))
    fig.add_vline(x=100, line=dict(color="#000", width=3, dash="dash"),
                  annotation=dict(text="100 % = budget exhausted", font=dict(size=13)), annotation_position="top")
    styled(fig, "", height=max(360, 34 * len(charted) + 120), hovermode="closest", showlegend=False)
    fig.update_xaxes(range=[0, BUDGET_CHART_CAP_PCT * 1.02], ticksuffix=" %",
                     title_text=f"% of the error budget of {window} consumed (axis capped at {BUDGET_CHART_CAP_PCT} %)")
    return [Note("window", f"Window: {window}."), Chart(fig, "error-budget-chart"),
            Table(rows[:TABLE_ROWS], BUDGET_COLUMNS, len(rows),
                  "services (most budget consumed first; the chart shows the same)", "slo_error_budget")]


ERROR_BUDGET = Section(
    "error-budget", "Error-budget burn per service",
    "Share of the error budget of the 30 days ending at as_of consumed. Past 100 % the budget is exhausted.",
    {"slo_error_budget": ("as_of", "window_minutes", "service_name", "slo_target_pct",
                          "budget_minutes", "bad_minutes", "budget_consumed_pct", "burn_rate",
                          "worst_incident_id"),
     "incident_facts": ("incident_id", "number")},
    error_budget)
