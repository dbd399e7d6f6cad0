"""The HTML report's "What changed" section and the uncertainty drawn on its MTTx charts.

"What changed" opens the page: the rows of `mttx_change` with a verdict (worse first, then
better) and their numbers, and, when there are none, "no evidence of a change" said as such,
never "stable". The MTTx charts get each point's 95 % interval as error bars and the number of
incidents behind it (`interval_bars`).
"""

from __future__ import annotations

import html
from typing import Any, Mapping, Sequence

from incident_assets.reliability.changes import CHANGED_ROWS_SQL, change_sentence, duration_text
from incident_assets.settings import REPORT_SCHEMA

TITLE = "What changed"
BLURB = ("MTTx of the last complete month against the three months before it, overall and per severity, "
         "service, environment, functionality and team. A change is claimed only when the durations show it: "
         "a Mann-Whitney |z| of at least 1.96 and a median that moved by at least the configured minimum "
         "(20 % by default).")
READS = {"mttx_change": ("dimension", "dimension_id", "dimension_name", "metric", "verdict", "n_recent",
                         "n_baseline", "p50_baseline_seconds", "p50_recent_seconds", "p50_change_pct", "z_score",
                         "recent_month", "baseline_start")}
COUNTED_METRICS = ("acknowledge", "resolve")  # the MTTx charts write n on these p50 lines (one per panel)
STYLE = """
ul.changes { list-style: none; padding-left: 0; } ul.changes li { padding: .3rem .6rem; margin: .3rem 0; }
li.worse { border-left: 4px solid #c62828; background: #ffebee; }
li.better { border-left: 4px solid #2e7d32; background: #e8f5e9; }
p.no-change { border-left: 4px solid #90a4ae; background: #eceff1; padding: .5rem .8rem; }
"""


def _verdict_counts(reader: Any) -> dict[str, int]:
    rows = reader.rows(f"select verdict, count(*) as n from {REPORT_SCHEMA}.mttx_change group by verdict")
    return {r["verdict"]: int(r["n"]) for r in rows}


def _period(reader: Any) -> tuple[str, str] | None:
    rows = reader.rows(f"select min(recent_month) as recent, min(baseline_start) as baseline "
                       f"from {REPORT_SCHEMA}.mttx_change")
    if not rows or rows[0]["recent"] is None:
        return None
    recent, baseline = str(rows[0]["recent"])[:7], str(rows[0]["baseline"])[:7]
    year, month = int(recent[:4]), int(recent[5:7])
    before = f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
    return recent, f"{baseline} to {before}"


def _item(row: Mapping[str, Any]) -> str:
    word = "Worse" if row["verdict"] == "worse" else "Better"
    return f'<li class="{row["verdict"]}"><strong>{word}:</strong> {html.escape(change_sentence(row))}</li>'


def what_changed(reader: Any) -> str:
    """The section's body: the changed rows, then what the other comparisons say."""
    period = _period(reader)
    if period is None:
        return '<p class="empty">No data.</p>'
    recent, baseline = period
    changed = reader.rows(CHANGED_ROWS_SQL)
    counts = _verdict_counts(reader)
    head = (f"<p>{html.escape(recent)} against {html.escape(baseline)}: {counts.get('worse', 0)} worse, "
            f"{counts.get('better', 0)} better.</p>")
    if changed:
        body = '<ul class="changes">' + "".join(_item(r) for r in changed) + "</ul>"
    else:
        body = ('<p class="no-change">No evidence of a change: no MTTx moved by more than its month-to-month '
                "noise. That is not proof that nothing changed; with a few incidents a month, only large "
                "changes can show.</p>")
    rest = (f"<p>{counts.get('no_change', 0)} other comparisons show no evidence of a change (which is not "
            f"the same as stable), and {counts.get('too_few', 0)} have too few incidents (under 5 in a period) "
            f"to judge. All of them: <code>select * from {REPORT_SCHEMA}.mttx_change</code>.</p>")
    return head + body + rest


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
