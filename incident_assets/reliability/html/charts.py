"""The report's plot style: one plotly look for every chart, date axes, monthly and weekly bars,
severity colours, and the chart as a div for the page (plotly.js is inlined once, in the head)."""

from __future__ import annotations

from itertools import cycle
from typing import Any, Sequence

import plotly.graph_objects as go

COLORS = {"good": "#2e7d32", "warn": "#ef6c00", "bad": "#c62828", "neutral": "#90a4ae", "main": "#1565c0"}
SEVERITY_REDS = ("#7f0000", "#c62828", "#ef6c00", "#f9a825", "#9e9d24", "#558b2f")
OTHER_GREYS = ("#90a4ae", "#cfd8dc", "#607d8b", "#b0bec5")
MONTHLY = dict(xperiod="M1", xperiodalignment="middle")  # x = a month's first day, drawn mid-month
WEEKLY = dict(xperiod=7 * 24 * 3600 * 1000, xperiod0="2000-01-03", xperiodalignment="middle")  # Monday weeks


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
