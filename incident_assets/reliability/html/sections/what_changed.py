""""What changed" opens the page: the rows of `mttx_change` with a verdict (worse first, then
better) as sentences, and, when there are none, "no evidence of a change" said as such, never
"stable"; then how many other comparisons show no evidence or have too few incidents."""

from __future__ import annotations

from incident_assets.reliability.changes import CHANGED_ROWS_SQL, change_sentence
from incident_assets.reliability.html.parts import NO_DATA, Changes, Part, Section
from incident_assets.reliability.html.reader import ReportReader, report_table

VERDICT_COUNTS_SQL = f"select verdict, count(*) as n from {report_table('mttx_change')} group by verdict"
PERIOD_SQL = (f"select min(recent_month) as recent, min(baseline_start) as baseline "
              f"from {report_table('mttx_change')}")


def period(reader: ReportReader) -> tuple[str, str] | None:
    """('2024-02', '2023-11 to 2024-01'): the month compared and the months it is compared with."""
    rows = reader.rows(PERIOD_SQL)
    if not rows or rows[0]["recent"] is None:
        return None
    recent, baseline = str(rows[0]["recent"])[:7], str(rows[0]["baseline"])[:7]
    year, month = int(recent[:4]), int(recent[5:7])
    before = f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
    return recent, f"{baseline} to {before}"


def what_changed(reader: ReportReader) -> list[Part]:
    """The changed rows, then what the other comparisons say."""
    compared = period(reader)
    if compared is None:
        return [NO_DATA]
    changed = [(row["verdict"], change_sentence(row)) for row in reader.rows(CHANGED_ROWS_SQL)]
    counts = {r["verdict"]: int(r["n"]) for r in reader.rows(VERDICT_COUNTS_SQL)}
    return [Changes(*compared, changed, counts)]


SECTION = Section(
    "what-changed", "What changed",
    "MTTx of the last complete month against the three months before it, overall and per severity, "
    "service, environment, functionality and team. A change is claimed only when the durations show it: "
    "a Mann-Whitney |z| of at least 1.96 and a median that moved by at least the configured minimum "
    "(20 % by default).",
    {"mttx_change": ("dimension", "dimension_id", "dimension_name", "metric", "verdict", "n_recent",
                     "n_baseline", "p50_baseline_seconds", "p50_recent_seconds", "p50_change_pct", "z_score",
                     "recent_month", "baseline_start")},
    what_changed)
