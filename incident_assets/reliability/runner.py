"""Builds the report tables (the `sql/<table>.sql` files, see `report_files.py`) inside the
destination, in dependency order over one connection.

Each table is written as `drop table if exists <report>.<t>; create table <report>.<t> as <select>`
in one transaction, reading the raw tables through input views (see `inputs.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Optional

from incident_assets.destination import report_settings, schema_columns
from incident_assets.reliability.inputs import INPUT_SCHEMA, RAW_INPUTS
from incident_assets.reliability.params import HOURS_OF_WEEK, ReportParams
from incident_assets.reliability.report_files import parse_report_file, render, report_tables
from incident_assets.reliability.sql_literals import ReportSqlError, identifier
from incident_assets.settings import RAW_SCHEMA, REPORT_SCHEMA

# what a caller needs to build and check the reports, in one import
__all__ = ["HOURS_OF_WEEK", "ReportParams", "ReportSqlError", "TableResult", "create_input_views",
           "parse_report_file", "render", "report_tables", "run_reports"]


def _query_rows(sql_client: Any, sql: str) -> list[tuple]:
    return [tuple(r) for r in (sql_client.execute_sql(sql) or [])]


def create_input_views(sql_client: Any, raw_schema: str = RAW_SCHEMA,
                       input_schema: str = INPUT_SCHEMA, tables: Optional[Iterable[str]] = None) -> dict[str, list[str]]:
    """(Re)create one view per `RAW_INPUTS` table (or per one of `tables`); returns what was
    missing (table → columns).

    Missing tables/columns become typed NULLs, so the reports run on any subset of the data.
    """
    wanted = set(RAW_INPUTS if tables is None else tables)
    raw_schema, input_schema = identifier(raw_schema), identifier(input_schema)
    present = {table: {c for c, _ in columns} for table, columns in schema_columns(sql_client, raw_schema).items()}
    missing: dict[str, list[str]] = {}
    with sql_client.begin_transaction():
        sql_client.execute_sql(f"create schema if not exists {input_schema}")
        for table, columns in RAW_INPUTS.items():
            if table not in wanted:
                continue
            have = present.get(table, set())
            select = ", ".join(
                f'cast("{c}" as {t}) as "{c}"' if c in have else f'cast(null as {t}) as "{c}"'
                for c, t in columns.items()
            )
            source = f" from {raw_schema}.{table}" if have else " where 1 = 0"
            if absent := [c for c in columns if c not in have]:
                missing[table] = absent
            sql_client.execute_sql(f"drop view if exists {input_schema}.{table}")
            sql_client.execute_sql(f"create view {input_schema}.{table} as select {select}{source}")
    return missing


@dataclass(frozen=True)
class TableResult:
    """One built table: the SQL that built it, its rows and columns (name, type) as created."""

    name: str
    sql: str
    row_count: int
    columns: tuple[tuple[str, str], ...] = ()


def run_reports(sql_client: Any, params: ReportParams, tables: Iterable[str] | None = None,
                report_schema: str = REPORT_SCHEMA) -> Iterator[TableResult]:
    """Builds the selected tables (default: all) in dependency order over one connection.

    A selected table whose inputs are not selected reads their current contents.
    """
    available = report_tables()
    selected = set(available if tables is None else tables)
    if unknown := selected - available.keys():
        raise ReportSqlError(f"unknown report tables {sorted(unknown)}")
    literals = params.literals()
    report_schema = identifier(report_schema)
    # the views the selected tables read (a report step refreshes only its own)
    create_input_views(sql_client, tables={t for name in selected for t in available[name].raw_inputs})
    sql_client.execute_sql(f"create schema if not exists {report_schema}")
    with report_settings(sql_client):
        for table in available.values():
            if table.name not in selected:
                continue
            select = render(table.template, literals, report_schema, name=table.name)
            qualified = f"{report_schema}.{table.name}"
            with sql_client.begin_transaction():
                sql_client.execute_sql(f"drop table if exists {qualified}")
                sql_client.execute_sql(f"create table {qualified} as\n{select}")
            (count,), = _query_rows(sql_client, f"select count(*) from {qualified}")
            columns = schema_columns(sql_client, report_schema, table.name).get(table.name, [])
            yield TableResult(table.name, select, int(count), tuple(columns))
