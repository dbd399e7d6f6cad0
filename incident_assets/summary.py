"""Rows per table and the headline MTTx, printed by `make demo`."""

from __future__ import annotations

from typing import Any, Optional

from incident_assets.destination import DestinationResource, current_destination, schema_columns
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
    """Prints each table's row count and the latest month's MTTx (the configured destination by default)."""
    with (destination or current_destination()).sql_client() as sql:
        print(f"{'table':<50} {'rows':>10}")
        for schema, table in data_tables(sql):
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
