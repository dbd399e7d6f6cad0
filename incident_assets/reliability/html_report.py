"""The offline HTML reliability review: plotly charts and short tables over the report tables.

The plotly JS is inlined once in the page head, so the file opens without any network.
Each section declares the report tables and columns it reads (`Section.reads`); the asset's
dependencies come from these declarations (`REPORT_TABLES`). A table or column that is not
there yet (its asset never materialized, or an older table shape) turns that section into a
"not built" note instead of failing the page; a table without rows shows "No data".
"""

from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import cycle
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from incident_assets.destination import schema_columns
from incident_assets.reliability import report_changes
from incident_assets.settings import REPORT_SCHEMA

WORST_SERVICES = 8  # availability panels: the services a reviewer should look at first
RECENT_MONTHS = 3  # "recent" = the last complete months, the current one is still partial
BUDGET_CHART_CAP_PCT = 200  # bars beyond this are drawn to the cap and labelled with their value
TABLE_ROWS = 15
RECENT_WEEKS = 12
ISSUES_PER_PROBLEM = 5
COLORS = {"good": "#2e7d32", "warn": "#ef6c00", "bad": "#c62828", "neutral": "#90a4ae", "main": "#1565c0"}


def report_table(name: str) -> str:
    """The qualified name of a report table, as a reader would query it."""
    return f"{REPORT_SCHEMA}.{name}"


# --- reading --------------------------------------------------------------------------------

class ReportReader:
    """Reads the report tables through a dlt sql client and knows which tables and columns exist."""

    def __init__(self, sql_client: Any) -> None:
        self.sql_client = sql_client
        self._columns: dict[str, set[str]] | None = None
        self._as_of: datetime | None = None

    def rows(self, query: str) -> list[dict[str, Any]]:
        """Runs one SELECT and returns its rows as dicts keyed by column name."""
        with self.sql_client.execute_query(query) as cursor:
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        """Number of rows of a report table."""
        return int(self.rows(f"select count(*) as n from {report_table(table)}")[0]["n"])

    def as_of(self) -> datetime | None:
        """The instant the report tables describe (incident_facts.as_of) in UTC; None without incidents."""
        if self._as_of is None:
            value = self.rows(f"select max(as_of) as as_of from {report_table('incident_facts')}")[0]["as_of"]
            self._as_of = value and value.astimezone(timezone.utc)
        return self._as_of

    def existing_columns(self) -> dict[str, set[str]]:
        """Columns of every table of the report schema, read once."""
        if self._columns is None:
            found = schema_columns(self.sql_client, REPORT_SCHEMA)
            self._columns = {table: {c for c, _ in columns} for table, columns in found.items()}
        return self._columns

    def missing(self, reads: Mapping[str, Sequence[str]]) -> list[str]:
        """What of `reads` (table -> columns) is absent, one phrase per table; empty when all is there."""
        existing = self.existing_columns()
        gaps = []
        for table, columns in reads.items():
            if table not in existing:
                gaps.append(f"table {report_table(table)} does not exist")
            elif absent := [c for c in columns if c not in existing[table]]:
                gaps.append(f"{report_table(table)} has no column {', '.join(absent)}")
        return gaps


def month_label(value: Any) -> str:
    """A month (a date, or text starting 'YYYY-MM') as the ISO date of its first day."""
    return str(value)[:7] + "-01"


def day_label(value: Any) -> str:
    """A date (or a timestamp) as its ISO date."""
    return str(value)[:10]


def as_float(value: Any) -> float | None:
    """A number from the database as float; NULL stays None."""
    return None if value is None else float(value)


def scaled(value: Any, divisor: float) -> float | None:
    """A duration in seconds in another unit (divisor 60: minutes, 3600: hours); NULL stays None."""
    return None if value is None else float(value) / divisor


def complete_months_before(as_of: datetime, count: int = RECENT_MONTHS) -> list[str]:
    """The `count` calendar months before the month of as_of (that one is still partial), oldest first."""
    index = as_of.year * 12 + as_of.month - 1  # months since year 0
    return [f"{i // 12:04d}-{i % 12 + 1:02d}-01" for i in range(index - count, index)]


def window_label(months: Sequence[str]) -> str:
    """'2024-01 to 2024-03' for a list of month labels."""
    return f"{months[0][:7]} to {months[-1][:7]}"


# --- figures ----------------------------------------------------------------------------------

def styled(fig: go.Figure, y_title: str, height: int = 420, **layout: Any) -> go.Figure:
    """The page's common look: white template, legend below, y from zero."""
    look = {"height": height, "margin": dict(l=70, r=70, t=40, b=60), "template": "plotly_white",
            "legend": dict(orientation="h", y=-0.18, traceorder="normal"), "hovermode": "x unified"}
    fig.update_layout(**{**look, **layout})
    fig.update_yaxes(rangemode="tozero")
    if y_title:
        fig.update_layout(yaxis_title=y_title)
    return fig


def date_axes(fig: go.Figure, tickformat: str = "%b %Y") -> go.Figure:
    """Every x axis of a time chart is a date axis: real dates in calendar order, not categories."""
    fig.update_xaxes(type="date", tickformat=tickformat, ticklabelmode="period", hoverformat="%b %d, %Y")
    return fig


MONTHLY = dict(xperiod="M1", xperiodalignment="middle")  # x = a month's first day, drawn mid-month
WEEKLY = dict(xperiod=7 * 24 * 3600 * 1000, xperiod0="2000-01-03", xperiodalignment="middle")  # Monday weeks


def month_bars(**trace: Any) -> go.Bar:
    """A bar per month, drawn across its month (x = the month's first day)."""
    return go.Bar(**MONTHLY, **trace)


def month_line(**trace: Any) -> go.Scatter:
    """A line point per month, in the middle of its month like the bars."""
    return go.Scatter(**{"mode": "lines+markers", **MONTHLY, **trace})


def right_axis(title: str, **axis: Any) -> dict[str, Any]:
    """A second y axis on the right, with ticks of its own (not synced to the left one's grid)."""
    return dict(title=title, overlaying="y", side="right", rangemode="tozero", showgrid=False, tickmode="auto",
                **axis)


SEVERITY_REDS = ("#7f0000", "#c62828", "#ef6c00", "#f9a825", "#9e9d24", "#558b2f")
OTHER_GREYS = ("#90a4ae", "#cfd8dc", "#607d8b", "#b0bec5")


def severity_colors(severities: Sequence[str]) -> dict[str, str]:
    """SEV1, SEV2, ... from dark red to green in slug order; anything else ('none', custom slugs) grey."""
    ranked = [s for s in severities if s.upper().startswith("SEV")]
    others = [s for s in severities if s not in ranked]
    colors = dict(zip(ranked, cycle(SEVERITY_REDS)))
    colors.update(zip(others, cycle(OTHER_GREYS)))
    return colors


def chart_html(fig: go.Figure, div_id: str) -> str:
    """The figure as a div for the page (plotly JS is in the head, once)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


# --- tables -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A table column: the row key, its header (with the unit), and how a value is written."""

    key: str
    header: str
    fmt: Callable[[Any], str] = str
    link: str | None = None  # the row key of an http(s) URL the cell links to


def fixed(digits: int) -> Callable[[Any], str]:
    """Formats a number with `digits` decimals and thousands separators."""
    return lambda v: f"{float(v):,.{digits}f}"


def cell_text(value: Any, fmt: Callable[[Any], str]) -> str:
    """A table cell: a dash for a missing value (never 'None' or 'nan')."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, (date, datetime)) and fmt is str:
        return day_label(value)
    return fmt(value)


def table_html(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], total: int, noun: str,
               full_table: str) -> str:
    """An HTML table plus the note "showing N of M <noun>" and where the full data is."""
    head = "".join(f"<th>{html.escape(c.header)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell_html(r, c)}</td>" for c in columns) + "</tr>" for r in rows)
    return (f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            + showing_note(len(rows), total, noun, full_table))


def cell_html(row: Mapping[str, Any], column: Column) -> str:
    """A cell's escaped text, as a link when the column has one and the row an http(s) URL."""
    text = html.escape(cell_text(row.get(column.key), column.fmt))
    url = str(row.get(column.link) or "") if column.link else ""
    return f'<a href="{html.escape(url)}">{text}</a>' if url.startswith(("https://", "http://")) else text


def showing_note(shown: int, total: int, noun: str, full_table: str) -> str:
    """"Showing N of M ..." with the table that has all of them."""
    return (f'<p class="showing">Showing {shown:,} of {total:,} {html.escape(noun)}. '
            f"Full table: <code>{html.escape(report_table(full_table))}</code> "
            f"(<code>select * from {html.escape(report_table(full_table))}</code>).</p>")


NO_DATA = '<p class="empty">No data.</p>'


# --- sections ---------------------------------------------------------------------------------

SEVERITY_NOT_SET = "not set"


def severity_sql(column: str) -> str:
    """One category for a missing severity: NULL, the reports' 'none' and the API's own 'UNSET'."""
    return f"case when {column} is null or {column} in ('none', 'UNSET') then '{SEVERITY_NOT_SET}' else {column} end"


def dates_sql(labels: Sequence[str]) -> str:
    """`(date, ...)` for `month in ...`: ISO dates made here (never user text)."""
    return "(" + ", ".join(f"cast('{date.fromisoformat(d).isoformat()}' as date)" for d in labels) + ")"


def incidents_per_month(reader: ReportReader) -> str:
    """Stacked bars of reportable incidents started per month, by severity."""
    severity = severity_sql("dimension_id")
    rows = reader.rows(f"select month, {severity} as severity, sum(incidents_started) as incidents_started "
                       f"from {report_table('incident_volume_monthly')} "
                       f"where dimension = 'severity' group by month, {severity} order by month, severity")
    if not rows:
        return NO_DATA
    by_severity: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_severity[r["severity"]].append(r)
    colors = severity_colors(sorted(by_severity))
    fig = go.Figure([month_bars(name=severity, x=[month_label(r["month"]) for r in picked],
                                y=[r["incidents_started"] for r in picked], marker_color=colors[severity])
                     for severity, picked in sorted(by_severity.items())])
    return chart_html(date_axes(styled(fig, "incidents started", barmode="stack")), "incidents-per-month-chart")


MTTX_PANELS = (  # (metric, label, unit divisor, unit): fast milestones in minutes, slow ones in hours
    (("detect", "MTTD", 60), ("acknowledge", "MTTA", 60)),
    (("mitigate", "MTTM", 3600), ("resolve", "MTTR", 3600)),
)


def mttx_trends(reader: ReportReader) -> str:
    """MTTD/MTTA (minutes) and MTTM/MTTR (hours) per month, p50 and p90, in two panels."""
    rows = reader.rows(f"select month, metric, n, p50_seconds, p90_seconds, p50_ci_low_seconds, p50_ci_high_seconds, "
                       f"p90_ci_low_seconds, p90_ci_high_seconds from {report_table('mttx_monthly')} "
                       f"where dimension = 'all' order by month")
    if not rows:
        return NO_DATA
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("Detect and acknowledge (minutes)", "Mitigate and resolve (hours)"))
    palette = iter(("#1565c0", "#6a1b9a", "#2e7d32", "#c62828"))
    for panel, metrics in enumerate(MTTX_PANELS, start=1):
        for metric, label, divisor in metrics:
            picked = [r for r in rows if r["metric"] == metric]
            color = next(palette)
            for stat, dash in (("p50", "solid"), ("p90", "dot")):
                # each point with its 95 % interval; MTTA's and MTTR's p50 write the incidents behind them
                fig.add_trace(month_line(
                    name=f"{label} {stat}", x=[month_label(r["month"]) for r in picked],
                    y=[scaled(r[f"{stat}_seconds"], divisor) for r in picked],
                    line=dict(dash=dash, color=color), legendgroup=label,
                    **report_changes.interval_bars(picked, stat, divisor),
                    **(report_changes.incident_counts_text(picked) if stat == "p50" and metric in
                       report_changes.COUNTED_METRICS else {})),
                    row=panel, col=1)
    fig.update_yaxes(title_text="minutes", row=1, col=1)
    fig.update_yaxes(title_text="hours", row=2, col=1)
    return chart_html(date_axes(styled(fig, "", height=620)), "mtta-mttr-chart")


IMPACT = "cast(sum(r.impact_minutes) as double precision)"


def worst_services(reader: ReportReader, months: list[str]) -> list[dict[str, Any]]:
    """Per service over `months`: minutes, availability and the share of the error budget those
    months allowed (downtime at the SLO target = 100 %), furthest over the target first."""
    target = "max(b.slo_target_pct)"
    return reader.rows(
        f"select r.service_id, max(r.service_name) as service_name, max(r.owner_team_name) as owner_team_name, "
        f"sum(r.incident_count) as incident_count, sum(r.incident_minutes) as incident_minutes, "
        f"sum(r.impact_minutes) as impact_minutes, sum(r.maintenance_minutes) as maintenance_minutes, "
        f"100 * (1 - {IMPACT} / sum(r.month_minutes)) as availability_pct, {target} as slo_target_pct, "
        f"100 * {IMPACT} / (sum(r.month_minutes) * (1 - {target} / 100)) as budget_consumed_pct "
        f"from {report_table('service_reliability_monthly')} as r "
        f"left join {report_table('slo_error_budget')} as b on b.service_id = r.service_id "
        f"where r.month in {dates_sql(months)} and r.month_minutes > 0 group by r.service_id "
        f"order by budget_consumed_pct desc nulls last, service_name limit {WORST_SERVICES}")


def availability(reader: ReportReader) -> str:
    """The services furthest over their SLO in the last complete months: every month of each against
    its target, one panel each on one shared scale."""
    as_of = reader.as_of()
    months = complete_months_before(as_of) if as_of else []
    worst = worst_services(reader, months) if months else []
    if not worst:
        return NO_DATA
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
    table = table_html(worst, (
        Column("service_name", "service"), Column("owner_team_name", "owner team"),
        Column("slo_target_pct", "SLO target %", fixed(2)),
        Column("budget_consumed_pct", f"error budget consumed % ({window_label(months)})", fixed(0)),
        Column("availability_pct", f"availability % ({window_label(months)})", fixed(3)),
        Column("impact_minutes", "weighted impact (minutes)", fixed(0)),
        Column("incident_minutes", "incident open (minutes)", fixed(0)),
        Column("maintenance_minutes", "maintenance (minutes)", fixed(0)),
        Column("incident_count", "incidents", fixed(0)),
    ), total, "services (furthest over their SLO first; the chart shows the same)", "service_reliability_monthly")
    return chart_html(fig, "availability-chart") + table


def budget_color(consumed_pct: float) -> str:
    """Red once the budget is gone, orange past half of it, green below."""
    return COLORS["bad"] if consumed_pct >= 100 else COLORS["warn"] if consumed_pct >= 50 else COLORS["good"]


def error_budget(reader: ReportReader) -> str:
    """Budget consumed per service (capped bars, the real value in the label) against the 100 % line."""
    rows = reader.rows(f"select b.service_name, b.slo_target_pct, b.budget_minutes, b.bad_minutes, "
                       f"b.budget_consumed_pct, b.burn_rate, b.worst_incident_id, f.number as worst_incident_number "
                       f"from {report_table('slo_error_budget')} as b "
                       f"left join {report_table('incident_facts')} as f on f.incident_id = b.worst_incident_id "
                       f"order by b.budget_consumed_pct desc, b.service_name")
    if not rows:
        return NO_DATA
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
    table = table_html(rows[:TABLE_ROWS], (
        Column("service_name", "service"), Column("slo_target_pct", "SLO target %", fixed(2)),
        Column("budget_minutes", "budget (minutes)", fixed(1)), Column("bad_minutes", "bad (minutes)", fixed(1)),
        Column("budget_consumed_pct", "budget consumed %", fixed(0)), Column("burn_rate", "burn rate (x)", fixed(2)),
        Column("worst_incident_number", "worst incident (number)"),
    ), len(rows), "services (most budget consumed first; the chart shows the same)", "slo_error_budget")
    return f'<p class="window">Window: {html.escape(window)}.</p>' + chart_html(fig, "error-budget-chart") + table


def budget_window(reader: ReportReader) -> str:
    """'2026-10-02 00:00 to 2026-11-01 00:00 UTC (30 days)': the window the budgets cover, ending at as_of."""
    (row,) = reader.rows(f"select max(as_of) as window_end, max(window_minutes) as window_minutes "
                         f"from {report_table('slo_error_budget')}")
    end = row["window_end"].astimezone(timezone.utc)
    minutes = float(row["window_minutes"])
    start = end - timedelta(minutes=minutes)
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC ({minutes / 1440:g} days)"


def open_backlog(reader: ReportReader) -> str:
    """Open and unacknowledged incidents per severity, their ages in days, and the open incidents
    themselves, oldest first, each linked to the incident tool."""
    severity = severity_sql("severity")
    per_severity = reader.rows(f"select {severity} as severity, sum(n_open) as n_open, "
                               f"sum(n_unacknowledged) as n_unacknowledged "
                               f"from {report_table('open_incident_backlog')} where severity <> 'all' "
                               f"group by {severity} order by severity")
    if not any(r["n_open"] for r in per_severity):
        return '<p class="empty">No open incidents at as_of.</p>'
    severities = [r["severity"] for r in per_severity]
    fig = go.Figure([go.Bar(name="open", x=severities, y=[r["n_open"] for r in per_severity],
                            marker_color=COLORS["main"]),
                     go.Bar(name="unacknowledged", x=severities, y=[r["n_unacknowledged"] for r in per_severity],
                            marker_color=COLORS["bad"])])
    styled(fig, "incidents open at as_of", height=340, barmode="group")
    fig.update_yaxes(tickformat=",d", dtick=max(1, max(r["n_open"] or 0 for r in per_severity) // 8))
    (summary,) = reader.rows(f"select n_open, n_unacknowledged, age_p50_seconds / 86400 as age_p50_days, "
                             f"age_p90_seconds / 86400 as age_p90_days, age_max_seconds / 86400 as age_max_days "
                             f"from {report_table('open_incident_backlog')} where severity = 'all'")
    ages = table_html([summary], (
        Column("n_open", "open"), Column("n_unacknowledged", "unacknowledged"),
        Column("age_p50_days", "age p50 (days)", fixed(1)), Column("age_p90_days", "age p90 (days)", fixed(1)),
        Column("age_max_days", "age max (days)", fixed(1)),
    ), 1, "row (all severities)", "open_incident_backlog")
    incidents = reader.rows(
        f"select number, name, {severity_sql('severity')} as severity, started_at, age_seconds / 86400 as age_days, "
        f"case when acknowledged_at is null then 'no' else 'yes' end as acknowledged, incident_url "
        f"from {report_table('incident_facts')} "
        f"where is_reportable and is_open and started_at <= as_of order by started_at, incident_id limit {TABLE_ROWS}")
    listed = "<h3>Open incidents, oldest first</h3>" + table_html(incidents, (
        Column("number", "incident", lambda n: f"#{n}", link="incident_url"), Column("name", "name", link="incident_url"),
        Column("severity", "severity"), Column("started_at", "started"), Column("age_days", "age (days)", fixed(1)),
        Column("acknowledged", "acknowledged"),
    ), int(summary["n_open"]), "open incidents", "incident_facts")
    return chart_html(fig, "open-backlog-chart") + ages + listed


def change_failure(reader: ReportReader) -> str:
    """Changes per month (bars) and the share followed by an incident (line)."""
    rows = reader.rows(f"select month, n_changes, change_failure_rate from {report_table('change_failure_monthly')} "
                       f"where service_id = 'all' order by month")
    if not rows:
        return NO_DATA
    x = [month_label(r["month"]) for r in rows]
    fig = go.Figure([
        month_bars(name="changes", x=x, y=[r["n_changes"] for r in rows], yaxis="y2", opacity=0.35,
                   marker_color=COLORS["neutral"]),
        month_line(name="change failure rate %", x=x, line=dict(color=COLORS["bad"]),
                   y=[None if r["change_failure_rate"] is None else 100 * float(r["change_failure_rate"])
                      for r in rows]),
    ])
    styled(fig, "change failure rate %", yaxis2=right_axis("changes"))
    return chart_html(date_axes(fig), "change-failure-chart")


def retrospectives(reader: ReportReader) -> str:
    """Share of resolved incidents whose retrospective was completed, and the overdue ones, per month."""
    rows = reader.rows(f"select month, completion_rate, n_overdue "
                       f"from {report_table('retrospective_followthrough_monthly')} "
                       f"where severity = 'all' order by month")
    if not rows:
        return NO_DATA
    x = [month_label(r["month"]) for r in rows]
    fig = go.Figure([
        month_bars(name="overdue retrospectives", x=x, y=[r["n_overdue"] for r in rows], yaxis="y2", opacity=0.35,
                   marker_color=COLORS["bad"]),
        month_line(name="completion %", x=x, line=dict(color=COLORS["main"]),
                   y=[None if r["completion_rate"] is None else 100 * float(r["completion_rate"]) for r in rows]),
    ])
    styled(fig, "retrospectives completed %", yaxis2=right_axis("overdue (incidents)"))
    fig.update_layout(yaxis_range=[0, 105])
    return chart_html(date_axes(fig), "retrospectives-chart")


def followups(reader: ReportReader) -> str:
    """Follow-up action items by month created: done, cancelled, still open, overdue now."""
    rows = reader.rows(f"select month, created, done, cancelled, open_now, overdue_now "
                       f"from {report_table('followup_monthly')} where severity = 'all' order by month")
    if not rows:
        return NO_DATA
    x = [month_label(r["month"]) for r in rows]
    stacks = (
        ("overdue now", [r["overdue_now"] or 0 for r in rows], COLORS["bad"]),
        ("open, not overdue", [(r["open_now"] or 0) - (r["overdue_now"] or 0) for r in rows], COLORS["main"]),
        ("done", [r["done"] or 0 for r in rows], COLORS["good"]),
        ("cancelled", [r["cancelled"] or 0 for r in rows], COLORS["neutral"]),
    )
    fig = go.Figure([month_bars(name=name, x=x, y=y, marker_color=color) for name, y, color in stacks])
    styled(fig, "follow-up items created in the month", barmode="stack")
    return chart_html(date_axes(fig), "followups-chart")


def alert_noise(reader: ReportReader) -> str:
    """Alerts per week per team (stacked) and the share linked to an incident (line), recent weeks."""
    rows = reader.rows(f"select week, team_id, team_name, alerts, linked_to_incident, linked_pct, "
                       f"business_hours, off_hours, sleep_hours, p50_minutes "
                       f"from {report_table('alert_noise_weekly')} order by week, team_id")
    if not rows:
        return NO_DATA
    weeks = sorted({day_label(r["week"]) for r in rows})
    by_team: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["team_id"] != "all":
            by_team[r["team_name"] or r["team_id"]].append(r)
    fig = go.Figure([go.Bar(name=team, x=[day_label(r["week"]) for r in picked], y=[r["alerts"] for r in picked],
                            **WEEKLY)
                     for team, picked in sorted(by_team.items())])
    overall = [r for r in rows if r["team_id"] == "all"]
    fig.add_trace(go.Scatter(name="linked to an incident % (all teams)", x=[day_label(r["week"]) for r in overall],
                             y=[as_float(r["linked_pct"]) for r in overall], yaxis="y2", mode="lines+markers",
                             line=dict(color="#000"), **WEEKLY))
    styled(fig, "alerts per week", barmode="stack",
           yaxis2=right_axis("linked to an incident %", range=[0, 105], dtick=25))
    date_axes(fig, tickformat="%d %b\n%Y")
    return chart_html(fig, "alert-noise-chart") + alert_team_table(reader, weeks[-RECENT_WEEKS:])


def alert_team_table(reader: ReportReader, weeks: list[str]) -> str:
    """Per team over the recent weeks: alerts, share linked, share outside business hours."""
    totals = reader.rows(
        f"select team_id, coalesce(max(team_name), team_id) as team, sum(alerts) as alerts, "
        f"sum(alerts) - sum(linked_to_incident) as unlinked, "
        f"100 * cast(sum(linked_to_incident) as double precision) / sum(alerts) as linked_pct, "
        f"sum(business_hours) as business_hours, sum(off_hours) as off_hours, sum(sleep_hours) as sleep_hours "
        f"from {report_table('alert_noise_weekly')} where week in {dates_sql(weeks)} "
        f"group by team_id order by unlinked desc, team") if weeks else []
    caption = f"<h3>Noisiest teams, {weeks[0]} to {weeks[-1]} (weeks starting)</h3>" if weeks else ""
    return caption + table_html(totals[:TABLE_ROWS], (
        Column("team", "team"), Column("alerts", "alerts"), Column("unlinked", "not linked to an incident"),
        Column("linked_pct", "linked %", fixed(1)), Column("business_hours", "alerts in business hours"),
        Column("off_hours", "alerts off hours"), Column("sleep_hours", "alerts in sleep hours"),
    ), len(totals), "teams (with the all-teams row)", "alert_noise_weekly")


def responder_load(reader: ReportReader) -> str:
    """Responders of the last complete months: incidents by the hour they started, and hours spent,
    most incidents first (what the chart shows)."""
    as_of = reader.as_of()
    months = complete_months_before(as_of) if as_of else []
    totals = reader.rows(
        f"select user_id, coalesce(max(user_name), user_id) as user_name, sum(incidents) as incidents, "
        f"sum(incidents_as_commander) as incidents_as_commander, sum(business_hours) as business_hours, "
        f"sum(off_hours) as off_hours, sum(sleep_hours) as sleep_hours, sum(effort_hours) as effort_hours "
        f"from {report_table('responder_load_monthly')} where month in {dates_sql(months)} "
        f"group by user_id order by incidents desc, effort_hours desc, user_name") if months else []
    if not totals:
        return NO_DATA
    charted = list(reversed(totals[:TABLE_ROWS]))  # horizontal bars: most incidents on top
    fig = go.Figure([go.Bar(orientation="h", name=name, y=[t["user_name"] for t in charted],
                            x=[t[key] for t in charted], marker_color=color)
                     for key, name, color in (("business_hours", "started in business hours", COLORS["good"]),
                                              ("off_hours", "started off hours", COLORS["warn"]),
                                              ("sleep_hours", "started in sleep hours", COLORS["bad"]))])
    styled(fig, "", height=max(360, 28 * len(charted) + 140), barmode="stack", hovermode="y unified",
           title=dict(text=f"Incidents per responder, {window_label(months)} (most incidents first)",
                      font=dict(size=14)))
    fig.update_xaxes(title_text="incidents")
    table = table_html(totals[:TABLE_ROWS], (
        Column("user_name", "responder"), Column("incidents", "incidents"),
        Column("incidents_as_commander", "as commander"), Column("business_hours", "started in business hours"),
        Column("off_hours", "started off hours"), Column("sleep_hours", "started in sleep hours"),
        Column("effort_hours", "effort (hours)", fixed(1)),
    ), len(totals), "responders (most incidents first, as in the chart)", "responder_load_monthly")
    return chart_html(fig, "responder-load-chart") + table


def data_quality(reader: ReportReader) -> str:
    """Incidents per data-quality problem, and the first rows of the issue list."""
    counts = reader.rows(f"select problem, count(*) as n from {report_table('data_quality_issues')} "
                         f"group by problem order by n desc, problem")
    if not counts:
        return NO_DATA
    fig = go.Figure(go.Bar(x=[r["problem"] for r in counts], y=[r["n"] for r in counts], marker_color=COLORS["warn"]))
    styled(fig, "incidents")
    issues = reader.rows(f"select problem, number, name, detail, incident_url from ("
                         f"select q.problem, q.number, f.name, q.detail, f.incident_url, q.incident_id, "
                         f"row_number() over (partition by q.problem order by q.number, q.incident_id) as nth "
                         f"from {report_table('data_quality_issues')} as q "
                         f"left join {report_table('incident_facts')} as f on f.incident_id = q.incident_id) as ranked "
                         f"where nth <= {ISSUES_PER_PROBLEM} order by problem, number, incident_id")
    table = table_html(issues, (Column("problem", "problem"),
                                Column("number", "incident", lambda n: f"#{n}", link="incident_url"),
                                Column("name", "incident name"), Column("detail", "detail")),
                       reader.count("data_quality_issues"), f"issues (up to {ISSUES_PER_PROBLEM} per problem)",
                       "data_quality_issues")
    return chart_html(fig, "data-quality-chart") + table


@dataclass(frozen=True)
class Section:
    """One part of the page: what it reads (table -> columns) and how it renders from a reader."""

    id: str
    title: str
    blurb: str
    reads: Mapping[str, Sequence[str]]
    render: Callable[[ReportReader], str]


SECTIONS = (
    Section("what-changed", report_changes.TITLE, report_changes.BLURB, report_changes.READS,
            report_changes.what_changed),
    Section("incidents-per-month", "Incidents per month by severity",
            "Reportable incidents by month of start; the last month runs up to as_of.",
            {"incident_volume_monthly": ("month", "dimension", "dimension_id", "incidents_started")},
            incidents_per_month),
    Section("mtta-mttr", "Time to detect, acknowledge, mitigate and resolve (p50 / p90)",
            "From the start of each reportable incident, by month of start. Detect and acknowledge in minutes, "
            "mitigate and resolve in hours: each panel has its own scale. Bars: each point's 95 % interval (cut at the "
            "point where the data cannot bound it); numbers: the incidents behind each MTTA and MTTR p50.",
            {"mttx_monthly": ("month", "dimension", "metric", "n", "p50_seconds", "p90_seconds", "p50_ci_low_seconds",
                              "p50_ci_high_seconds", "p90_ci_low_seconds", "p90_ci_high_seconds")},
            mttx_trends),
    Section("availability", f"Availability: the {WORST_SERVICES} worst services",
            f"The services furthest over their SLO in the last {RECENT_MONTHS} complete months, ranked by the "
            "share of those months' error budget they consumed (downtime at the target = 100 %); every month of "
            "each against its target (dashed), all on one scale. Downtime is impact-weighted; the current month "
            "runs up to as_of.",
            {"incident_facts": ("as_of",),
             "service_reliability_monthly": ("month", "service_id", "service_name", "owner_team_name",
                                             "incident_count", "incident_minutes", "impact_minutes",
                                             "maintenance_minutes", "month_minutes", "availability_pct"),
             "slo_error_budget": ("service_id", "slo_target_pct")},
            availability),
    Section("error-budget", "Error-budget burn per service",
            "Share of the error budget of the 30 days ending at as_of consumed. Past 100 % the budget is exhausted.",
            {"slo_error_budget": ("as_of", "window_minutes", "service_id", "service_name", "slo_target_pct",
                                  "budget_minutes", "bad_minutes", "budget_consumed_pct", "burn_rate",
                                  "worst_incident_id"),
             "incident_facts": ("incident_id", "number")},
            error_budget),
    Section("open-backlog", "Open incident backlog",
            "Reportable incidents open at as_of, by severity (a missing severity, UNSET included, is \"not set\"), "
            "their ages in days, and the incidents themselves, linked to the incident tool.",
            {"open_incident_backlog": ("severity", "n_open", "n_unacknowledged", "age_p50_seconds",
                                       "age_p90_seconds", "age_max_seconds"),
             "incident_facts": ("incident_id", "number", "name", "severity", "started_at", "acknowledged_at",
                                "age_seconds", "incident_url", "is_reportable", "is_open", "as_of")},
            open_backlog),
    Section("change-failure", "Change failure rate",
            "Changes followed by a reportable incident on the same service within the change window.",
            {"change_failure_monthly": ("month", "service_id", "n_changes", "change_failure_rate")},
            change_failure),
    Section("retrospectives", "Retrospective completion",
            "Resolved incidents (by month resolved) whose retrospective was completed; overdue ones.",
            {"retrospective_followthrough_monthly": ("month", "severity", "completion_rate", "n_overdue")},
            retrospectives),
    Section("followups", "Follow-up action items",
            "Follow-ups by month created, and where they stand at as_of: open, overdue, done or cancelled.",
            {"followup_monthly": ("month", "severity", "created", "done", "cancelled", "open_now", "overdue_now")},
            followups),
    Section("alert-noise", "Alert noise per team",
            "Alerts per week (Monday, UTC) by team, and the share that became incidents: "
            "alerts that never do are the noise to cut.",
            {"alert_noise_weekly": ("week", "team_id", "team_name", "alerts", "linked_to_incident", "linked_pct",
                                    "business_hours", "off_hours", "sleep_hours", "p50_minutes")},
            alert_noise),
    Section("responder-load", "Responder load",
            f"People with an active role on reportable incidents over the last {RECENT_MONTHS} complete months, "
            "by the hour the incidents started, and hours from assignment to resolution.",
            {"incident_facts": ("as_of",),
             "responder_load_monthly": ("month", "user_id", "user_name", "incidents", "incidents_as_commander",
                                        "business_hours", "off_hours", "sleep_hours", "effort_hours")},
            responder_load),
    Section("data-quality", "Data-quality issues", "Incidents whose records look wrong.",
            {"data_quality_issues": ("problem", "incident_id", "number", "detail"),
             "incident_facts": ("incident_id", "name", "incident_url")},
            data_quality),
)

HEADER_READS = {"incident_facts": ("as_of",)}

# every report table the page reads, in page order: the HTML report asset depends on these
REPORT_TABLES = tuple(dict.fromkeys(t for reads in (HEADER_READS, *(s.reads for s in SECTIONS)) for t in reads))

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
section { margin-bottom: 2.5rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
h3 { font-size: 1rem; margin: 1rem 0 .4rem; }
p.blurb { color: #555; } p.empty { color: #999; font-style: italic; }
p.not-built { background: #fff8e1; border-left: 4px solid #ef6c00; padding: .5rem .8rem; }
p.showing { color: #555; font-size: .85rem; margin-top: .3rem; } p.window { font-weight: 600; }
table { border-collapse: collapse; font-size: .85rem; margin-top: .8rem; }
td, th { border: 1px solid #ddd; padding: .25rem .5rem; } th { background: #f5f5f5; text-align: left; }
td { font-variant-numeric: tabular-nums; }
nav { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; margin-bottom: 1.5rem; }
""" + report_changes.STYLE


@dataclass(frozen=True)
class RenderedPage:
    """The page, its section ids in order, and the ids of the sections whose tables are not built."""

    html: str
    sections: list[str]
    not_built: list[str]


def not_built_note(gaps: list[str]) -> str:
    """The note a section shows instead of its charts when its tables are not there yet."""
    return (f'<p class="not-built">Not built yet: {html.escape("; ".join(gaps))}. '
            "Materialize the reliability report tables, then this report again.</p>")


def render_section(reader: ReportReader, section: Section) -> tuple[str, bool]:
    """One section's HTML, and whether it was built (its tables and columns exist)."""
    gaps = reader.missing(section.reads)
    body = not_built_note(gaps) if gaps else section.render(reader)
    return (f'<section id="{section.id}"><h2>{html.escape(section.title)}</h2>'
            f'<p class="blurb">{html.escape(section.blurb)}</p>{body}</section>'), not gaps


def report_as_of(reader: ReportReader) -> str:
    """The instant the report tables describe, as text for the page header."""
    if gaps := reader.missing(HEADER_READS):
        return f"unknown ({'; '.join(gaps)})"
    as_of = reader.as_of()
    return as_of.strftime("%Y-%m-%d %H:%M UTC") if as_of else "unknown (no incidents loaded)"


def render_html(sql_client: Any) -> RenderedPage:
    """Builds the whole page from the report tables the sql client sees."""
    reader = ReportReader(sql_client)
    parts, not_built = [], []
    for section in SECTIONS:
        part, built = render_section(reader, section)
        parts.append(part)
        if not built:
            not_built.append(section.id)
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in SECTIONS)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Reliability review</title>"
        f"<style>{STYLE}</style><script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
        f"<h1>Reliability review</h1><p>As of {html.escape(report_as_of(reader))}; generated {generated}. "
        f"Tables are in the schema <code>{REPORT_SCHEMA}</code>.</p>"
        f"<nav>{nav}</nav>{''.join(parts)}</body></html>"
    )
    return RenderedPage(page, [s.id for s in SECTIONS], not_built)


def write_html_report(sql_client: Any, path: Path) -> RenderedPage:
    """Writes the page (atomically: a viewer never sees half a file) and returns what it holds."""
    page = render_html(sql_client)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page.html, encoding="utf-8")
    tmp.replace(path)
    return page
