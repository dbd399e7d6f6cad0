"""Time to detect, acknowledge, mitigate and resolve per month (p50 and p90), in two panels with
units of their own, each point with its 95 % interval and, on MTTA and MTTR, the incidents behind it."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from plotly.subplots import make_subplots

from incident_assets.reliability.changes import duration_text
from incident_assets.reliability.html.charts import date_axes, month_line, styled
from incident_assets.reliability.html.parts import NO_DATA, Chart, Part, Section
from incident_assets.reliability.html.reader import ReportReader, month_label, report_table, scaled

COLUMNS = ("month", "metric", "n", "p50_seconds", "p90_seconds", "p50_ci_low_seconds", "p50_ci_high_seconds",
           "p90_ci_low_seconds", "p90_ci_high_seconds")
SQL = f"select {', '.join(COLUMNS)} from {report_table('mttx_monthly')} where dimension = 'all' order by month"
PANELS = (  # (metric, label, unit divisor): fast milestones in minutes, slow ones in hours
    (("detect", "MTTD", 60), ("acknowledge", "MTTA", 60)),
    (("mitigate", "MTTM", 3600), ("resolve", "MTTR", 3600)),
)
COUNTED_METRICS = ("acknowledge", "resolve")  # the p50 lines that write n above their points (one per panel)


def interval_bars(rows: Sequence[Mapping[str, Any]], stat: str, divisor: float) -> dict[str, Any]:
    """Plotly trace options for a p50 or p90 line: its 95 % interval as error bars (an end the data
    cannot bound is drawn to the point itself and said so on hover) and n on hover."""
    values = [None if r[f"{stat}_seconds"] is None else float(r[f"{stat}_seconds"]) for r in rows]

    def distance(bound: str, sign: int) -> list[float | None]:
        out = []
        for r, v in zip(rows, values):
            end = r.get(f"{stat}_ci_{bound}_seconds")
            out.append(None if v is None or end is None else sign * (float(end) - v) / divisor)
        return out

    def bound_text(r: Mapping[str, Any], bound: str) -> str:
        end = r.get(f"{stat}_ci_{bound}_seconds")
        return "unbounded" if end is None else duration_text(end)

    text = [f"n={r['n']}, 95 % interval {bound_text(r, 'low')} to {bound_text(r, 'high')}" for r in rows]
    return dict(error_y=dict(type="data", symmetric=False, array=distance("high", 1),
                             arrayminus=distance("low", -1), thickness=1, width=3),
                customdata=text, hovertemplate=f"%{{y:,.1f}} {'min' if divisor == 60 else 'h'} (%{{customdata}})")


def incident_counts_text(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The number of incidents behind each point, written above it."""
    return dict(mode="lines+markers+text", text=[str(r["n"]) for r in rows], textposition="top center",
                textfont=dict(size=9, color="#555"))


def mttx_trends(reader: ReportReader) -> list[Part]:
    """MTTD/MTTA (minutes) and MTTM/MTTR (hours) per month, p50 and p90, in two panels."""
    rows = reader.rows(SQL)
    if not rows:
        return [NO_DATA]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("Detect and acknowledge (minutes)", "Mitigate and resolve (hours)"))
    palette = iter(("#1565c0", "#6a1b9a", "#2e7d32", "#c62828"))
    for panel, metrics in enumerate(PANELS, start=1):
        for metric, label, divisor in metrics:
            picked = [r for r in rows if r["metric"] == metric]
            color = next(palette)
            for stat, dash in (("p50", "solid"), ("p90", "dot")):
                # each point with its 95 % interval; MTTA's and MTTR's p50 write the incidents behind them
                fig.add_trace(month_line(
                    name=f"{label} {stat}", x=[month_label(r["month"]) for r in picked],
                    y=[scaled(r[f"{stat}_seconds"], divisor) for r in picked],
                    line=dict(dash=dash, color=color), legendgroup=label,
                    **interval_bars(picked, stat, divisor),
                    **(incident_counts_text(picked) if stat == "p50" and metric in COUNTED_METRICS else {})),
                    row=panel, col=1)
    fig.update_yaxes(title_text="minutes", row=1, col=1)
    fig.update_yaxes(title_text="hours", row=2, col=1)
    return [Chart(date_axes(styled(fig, "", height=620)), "mtta-mttr-chart")]


SECTION = Section(
    "mtta-mttr", "Time to detect, acknowledge, mitigate and resolve (p50 / p90)",
    "From the start of each reportable incident, by month of start. Detect and acknowledge in minutes, "
    "mitigate and resolve in hours: each panel has its own scale. Bars: each point's 95 % interval (cut at the "
    "point where the data cannot bound it); numbers: the incidents behind each MTTA and MTTR p50.",
    {"mttx_monthly": ("dimension", *COLUMNS)},
    mttx_trends)
