"""How a row of `reliability.mttx_change` is said in words: one sentence per changed row, the same
in the asset checks, their alerts, the HTML report and the demo's summary."""

from __future__ import annotations

from typing import Any, Mapping

from incident_assets.settings import REPORT_SCHEMA

METRIC_LABELS = {"detect": "MTTD", "acknowledge": "MTTA", "mitigate": "MTTM", "resolve": "MTTR"}

# the rows the HTML report and the summary show first: real changes, the strongest evidence first
CHANGED_ROWS_SQL = f"""
select dimension, dimension_id, dimension_name, metric, verdict, n_recent, n_baseline,
    p50_baseline_seconds, p50_recent_seconds, p50_change_pct, z_score, recent_month, baseline_start
from {REPORT_SCHEMA}.mttx_change
where verdict in ('worse', 'better')
order by verdict desc, abs(z_score) desc, dimension, dimension_name, metric
"""


def duration_text(seconds: Any) -> str:
    """A duration for people: minutes under two hours, hours under two days, else days."""
    if seconds is None:
        return "–"
    value = float(seconds)
    if value < 2 * 3600:
        return f"{value / 60:.1f} min" if value < 600 else f"{value / 60:.0f} min"
    if value < 2 * 86400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


def subject(row: Mapping[str, Any]) -> str:
    """'MTTR of service Checkout', 'MTTA of all incidents', 'MTTR of severity SEV1'."""
    label = METRIC_LABELS.get(row["metric"], row["metric"])
    if row["dimension"] == "all":
        return f"{label} of all incidents"
    return f"{label} of {row['dimension']} {row['dimension_name']}"


def change_sentence(row: Mapping[str, Any]) -> str:
    """'MTTR of service Checkout: p50 3.1 h -> 9.8 h (+216 %, z = 3.4, 27 vs 71 incidents)': the
    recent month's median after the baseline's, and the incidents behind each (recent vs baseline)."""
    change = row["p50_change_pct"]
    pct = "change –" if change is None else f"{float(change):+.0f} %"
    z = "–" if row["z_score"] is None else f"{float(row['z_score']):.1f}"
    return (f"{subject(row)}: p50 {duration_text(row['p50_baseline_seconds'])} -> "
            f"{duration_text(row['p50_recent_seconds'])} ({pct}, z = {z}, "
            f"{row['n_recent']} vs {row['n_baseline']} incidents)")


def change_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as JSON-friendly numbers (for check metadata)."""
    def number(value: Any) -> float | None:
        return None if value is None else round(float(value), 3)

    return {"dimension": row["dimension"], "dimension_id": row["dimension_id"],
            "dimension_name": row["dimension_name"], "metric": row["metric"], "verdict": row["verdict"],
            "p50_before_seconds": number(row["p50_baseline_seconds"]),
            "p50_after_seconds": number(row["p50_recent_seconds"]),
            "p50_change_pct": number(row["p50_change_pct"]), "z_score": number(row["z_score"]),
            "incidents_recent": int(row["n_recent"]), "incidents_baseline": int(row["n_baseline"])}
