"""What follows incidents and changes, per month: the change failure rate, retrospectives completed
(and overdue), and follow-up action items by where they stand at as_of."""

from __future__ import annotations

import plotly.graph_objects as go

from incident_assets.reliability.html.charts import COLORS, date_axes, month_bars, month_line, right_axis, styled
from incident_assets.reliability.html.parts import NO_DATA, Chart, Part, Section
from incident_assets.reliability.html.reader import ReportReader, month_label, report_table


def percent(rate: object) -> float | None:
    """A rate (0..1) from the database as a percentage; NULL stays None."""
    return None if rate is None else 100 * float(rate)


CHANGE_FAILURE_SQL = (f"select month, n_changes, change_failure_rate from {report_table('change_failure_monthly')} "
                      f"where service_id = 'all' order by month")


def change_failure(reader: ReportReader) -> list[Part]:
    """Changes per month (bars) and the share followed by an incident (line)."""
    rows = reader.rows(CHANGE_FAILURE_SQL)
    if not rows:
        return [NO_DATA]
    x = [month_label(r["month"]) for r in rows]
    fig = go.Figure([
        month_bars(name="changes", x=x, y=[r["n_changes"] for r in rows], yaxis="y2", opacity=0.35,
                   marker_color=COLORS["neutral"]),
        month_line(name="change failure rate %", x=x, line=dict(color=COLORS["bad"]),
                   y=[percent(r["change_failure_rate"]) for r in rows]),
    ])
    styled(fig, "change failure rate %", yaxis2=right_axis("changes"))
    return [Chart(date_axes(fig), "change-failure-chart")]


CHANGE_FAILURE = Section(
    "change-failure", "Change failure rate",
    "Changes followed by a reportable incident on the same service within the change window.",
    {"change_failure_monthly": ("month", "service_id", "n_changes", "change_failure_rate")},
    change_failure)

RETROSPECTIVES_SQL = (f"select month, completion_rate, n_overdue "
                      f"from {report_table('retrospective_followthrough_monthly')} "
                      f"where severity = 'all' order by month")


def retrospectives(reader: ReportReader) -> list[Part]:
    """Share of resolved incidents whose retrospective was completed, and the overdue ones, per month."""
    rows = reader.rows(RETROSPECTIVES_SQL)
    if not rows:
        return [NO_DATA]
    x = [month_label(r["month"]) for r in rows]
    fig = go.Figure([
        month_bars(name="overdue retrospectives", x=x, y=[r["n_overdue"] for r in rows], yaxis="y2", opacity=0.35,
                   marker_color=COLORS["bad"]),
        month_line(name="completion %", x=x, line=dict(color=COLORS["main"]),
                   y=[percent(r["completion_rate"]) for r in rows]),
    ])
    styled(fig, "retrospectives completed %", yaxis2=right_axis("overdue (incidents)"))
    fig.update_layout(yaxis_range=[0, 105])
    return [Chart(date_axes(fig), "retrospectives-chart")]


RETROSPECTIVES = Section(
    "retrospectives", "Retrospective completion",
    "Resolved incidents (by month resolved) whose retrospective was completed; overdue ones.",
    {"retrospective_followthrough_monthly": ("month", "severity", "completion_rate", "n_overdue")},
    retrospectives)

FOLLOWUPS_SQL = (f"select month, created, done, cancelled, open_now, overdue_now "
                 f"from {report_table('followup_monthly')} where severity = 'all' order by month")


def followups(reader: ReportReader) -> list[Part]:
    """Follow-up action items by month created: done, cancelled, still open, overdue now."""
    rows = reader.rows(FOLLOWUPS_SQL)
    if not rows:
        return [NO_DATA]
    x = [month_label(r["month"]) for r in rows]
    stacks = (
        ("overdue now", [r["overdue_now"] or 0 for r in rows], COLORS["bad"]),
        ("open, not overdue", [(r["open_now"] or 0) - (r["overdue_now"] or 0) for r in rows], COLORS["main"]),
        ("done", [r["done"] or 0 for r in rows], COLORS["good"]),
        ("cancelled", [r["cancelled"] or 0 for r in rows], COLORS["neutral"]),
    )
    fig = go.Figure([month_bars(name=name, x=x, y=y, marker_color=color) for name, y, color in stacks])
    styled(fig, "follow-up items created in the month", barmode="stack")
    return [Chart(date_axes(fig), "followups-chart")]


FOLLOWUPS = Section(
    "followups", "Follow-up action items",
    "Follow-ups by month created, and where they stand at as_of: open, overdue, done or cancelled.",
    {"followup_monthly": ("month", "severity", "created", "done", "cancelled", "open_now", "overdue_now")},
    followups)
