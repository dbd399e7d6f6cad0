"""Rows per table, the latest month's MTTx and every report's headline numbers, printed by `make demo`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from incident_assets.destination import DestinationResource, current_destination, schema_columns
from incident_assets.reliability.changes import CHANGED_ROWS_SQL, change_sentence
from incident_assets.reliability.html.reader import ReportReader
from incident_assets.defs.reliability.previews import PERIOD_COLUMN, headline_metadata
from incident_assets.reliability.params import ReportParams
from incident_assets.reliability.report_files import report_tables
from incident_assets.settings import RAW_SCHEMA, REPORT_SCHEMA

HEADLINE_SQL = f"""
select month, metric, n, p50_seconds / 60, p90_seconds / 60
from {REPORT_SCHEMA}.mttx_monthly
where dimension = 'all'
  and month = (select max(month) from {REPORT_SCHEMA}.mttx_monthly where n > 0)
order by metric
"""


def data_tables(sql: Any) -> list[tuple[str, str]]:
    """(schema, table) of every raw and report table, without dlt's bookkeeping tables."""
    return [
        (schema, table)
        for schema in sorted((RAW_SCHEMA, REPORT_SCHEMA))
        for table in sorted(schema_columns(sql, schema))
        if not table.startswith("_dlt")
    ]


def print_summary(destination: Optional[DestinationResource] = None) -> None:
    """Prints each table's row count, the latest month's MTTx and every report's headline
    numbers (the configured destination by default)."""
    with (destination or current_destination()).sql_client() as sql:
        tables = data_tables(sql)
        print(f"{'table':<50} {'rows':>10}")
        for schema, table in tables:
            (count,) = sql.execute_sql(f'select count(*) from "{schema}"."{table}"')[0]
            print(f"{schema + '.' + table:<50} {count:>10}")
        try:
            rows = sql.execute_sql(HEADLINE_SQL)
        except Exception:  # reports not built (ingestion-only run)
            return
        if not rows:
            return
        print(f"\nMTTx in {rows[0][0]:%Y-%m}, all reportable incidents (minutes):")
        print(f"{'metric':<12} {'n':>6} {'p50':>10} {'p90':>10}")
        for _, metric, n, p50, p90 in rows:
            fmt = lambda v: "-" if v is None else f"{v:.1f}"  # noqa: E731
            print(f"{metric:<12} {n:>6} {fmt(p50):>10} {fmt(p90):>10}")
        built = {schema_table[1] for schema_table in tables if schema_table[0] == REPORT_SCHEMA}
        print_headlines(sql, built)
        if "mttx_change" in built:
            print_changes(sql)


def print_headlines(sql, built: set[str]) -> None:
    """Each built report's headline numbers: the headline query of its SQL file's header, the
    numbers Dagster records on every materialization."""
    # as of the instant the reports were built (their `as_of` column), e.g. the demo's anchor
    (as_of,) = sql.execute_sql(f"select max(as_of) from {REPORT_SCHEMA}.incident_facts")[0]
    literals = ReportParams(as_of=as_of or datetime.now(timezone.utc)).literals()
    print("\nHeadline numbers (as recorded on each report asset):")
    for table in report_tables().values():
        if table.name not in built or not table.headline:
            continue
        numbers = headline_metadata(sql, table, literals)
        period = numbers.pop(PERIOD_COLUMN, None)
        shown = ", ".join(f"{name} {headline_text(value.value)}" for name, value in numbers.items())
        if period is not None:
            shown = f"{period.value}: {shown}"
        print(f"{table.name:<38} {shown or '-'}")


def headline_text(value: Any) -> str:
    """A headline number as the UI shows it (at most two decimals, no trailing zeros)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def print_changes(sql) -> None:
    """The rows of mttx_change with a verdict: what got worse or better last month, with the evidence."""
    rows = ReportReader(sql).rows(CHANGED_ROWS_SQL)
    print("\nWhat changed (last complete month against the three before, reliability.mttx_change):")
    if not rows:
        print("no evidence of a change (which is not the same as stable)")
    for row in rows:
        print(f"{row['verdict']:<7} {change_sentence(row)}")
