"""The load on people: alerts per team and week (and how many become incidents), and the
responders of the last complete months by the hour their incidents started."""

from __future__ import annotations

from collections import defaultdict

import plotly.graph_objects as go

from incident_assets.reliability.html.charts import COLORS, WEEKLY, date_axes, right_axis, styled
from incident_assets.reliability.html.parts import NO_DATA, TABLE_ROWS, Chart, Column, Part, Section, Table, fixed
from incident_assets.reliability.html.reader import (
    RECENT_MONTHS, ReportReader, as_float, complete_months_before, dates_sql, day_label, report_table, window_label,
)

RECENT_WEEKS = 12
ALERT_COLUMNS = ("week", "team_id", "team_name", "alerts", "linked_to_incident", "linked_pct", "business_hours",
                 "off_hours", "sleep_hours", "p50_minutes")
ALERTS_SQL = f"select {', '.join(ALERT_COLUMNS)} from {report_table('alert_noise_weekly')} order by week, team_id"
TEAM_COLUMNS = (
    Column("team", "team"), Column("alerts", "alerts"), Column("unlinked", "not linked to an incident"),
    Column("linked_pct", "linked %", fixed(1)), Column("business_hours", "alerts in business hours"),
    Column("off_hours", "alerts off hours"), Column("sleep_hours", "alerts in sleep hours"),
)


def alert_team_table(reader: ReportReader, weeks: list[str]) -> Table:
    """Per team over the recent weeks: alerts, share linked, share outside business hours."""
    totals = reader.rows(
        f"select team_id, coalesce(max(team_name), team_id) as team, sum(alerts) as alerts, "
        f"sum(alerts) - sum(linked_to_incident) as unlinked, "
        f"100 * cast(sum(linked_to_incident) as double precision) / sum(alerts) as linked_pct, "
        f"sum(business_hours) as business_hours, sum(off_hours) as off_hours, sum(sleep_hours) as sleep_hours "
        f"from {report_table('alert_noise_weekly')} where week in {dates_sql(weeks)} "
        f"group by team_id order by unlinked desc, team") if weeks else []
    caption = f"Noisiest teams, {weeks[0]} to {weeks[-1]} (weeks starting)" if weeks else ""
    return Table(totals[:TABLE_ROWS], TEAM_COLUMNS, len(totals), "teams (with the all-teams row)",
                 "alert_noise_weekly", caption=caption)


def alert_noise(reader: ReportReader) -> list[Part]:
    """Alerts per week per team (stacked) and the share linked to an incident (line), recent weeks."""
    rows = reader.rows(ALERTS_SQL)
    if not rows:
        return [NO_DATA]
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
    return [Chart(fig, "alert-noise-chart"), alert_team_table(reader, weeks[-RECENT_WEEKS:])]


ALERT_NOISE = Section(
    "alert-noise", "Alert noise per team",
    "Alerts per week (Monday, UTC) by team, and the share that became incidents: "
    "alerts that never do are the noise to cut.",
    {"alert_noise_weekly": ALERT_COLUMNS},
    alert_noise)

RESPONDER_COLUMNS = (
    Column("user_name", "responder"), Column("incidents", "incidents"),
    Column("incidents_as_commander", "as commander"), Column("business_hours", "started in business hours"),
    Column("off_hours", "started off hours"), Column("sleep_hours", "started in sleep hours"),
    Column("effort_hours", "effort (hours)", fixed(1)),
)
HOUR_BARS = (("business_hours", "started in business hours", COLORS["good"]),
             ("off_hours", "started off hours", COLORS["warn"]),
             ("sleep_hours", "started in sleep hours", COLORS["bad"]))


def responder_load(reader: ReportReader) -> list[Part]:
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
        return [NO_DATA]
    charted = list(reversed(totals[:TABLE_ROWS]))  # horizontal bars: most incidents on top
    fig = go.Figure([go.Bar(orientation="h", name=name, y=[t["user_name"] for t in charted],
                            x=[t[key] for t in charted], marker_color=color) for key, name, color in HOUR_BARS])
    styled(fig, "", height=max(360, 28 * len(charted) + 140), barmode="stack", hovermode="y unified",
           title=dict(text=f"Incidents per responder, {window_label(months)} (most incidents first)",
                      font=dict(size=14)))
    fig.update_xaxes(title_text="incidents")
    return [Chart(fig, "responder-load-chart"),
            Table(totals[:TABLE_ROWS], RESPONDER_COLUMNS, len(totals),
                  "responders (most incidents first, as in the chart)", "responder_load_monthly")]


RESPONDER_LOAD = Section(
    "responder-load", "Responder load",
    f"People with an active role on reportable incidents over the last {RECENT_MONTHS} complete months, "
    "by the hour the incidents started, and hours from assignment to resolution.",
    {"incident_facts": ("as_of",),
     "responder_load_monthly": ("month", "user_id", "user_name", "incidents", "incidents_as_commander",
                                "business_hours", "off_hours", "sleep_hours", "effort_hours")},
    responder_load)
