"""The baseline: what a plain script would do, without dlt or Dagster.

A `requests` loop (per_page=200) over the same endpoints, nested data flattened the way dlt
does it (dicts into `parent__child` columns, lists into `<table>__<field>` child tables with
`_dlt_parent_id`/`_dlt_list_idx`, declared JSON columns kept as JSON text), rows turned into
Arrow tables in batches and written with DuckDB `CREATE TABLE AS`.

    python -m benchmarks.raw_baseline <base_url> <duckdb_path> [excluded,endpoints]
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Iterator

import duckdb
import pyarrow as pa
import requests

from incident_assets.incident_api.endpoints import ENDPOINTS, json_column_names
from incident_assets.simulator import DEFAULT_TOKEN

PER_PAGE = 200
BATCH_ROWS = 50_000  # rows per table buffered as dicts before becoming an Arrow table
SCHEMA = "incident_api"
VARIANT = {bool: "bool", int: "bigint", float: "double", str: "text"}  # dlt's variant suffixes


class Tables:
    """Rows per table, buffered as dicts and compacted into Arrow tables every BATCH_ROWS."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.chunks: dict[str, list[pa.Table]] = {}
        self.types: dict[tuple[str, str], type] = {}  # the first type seen per column

    def column(self, table: str, name: str, value: Any) -> str:
        """`name`, or dlt's variant column (`name__v_text`, ...) for a value whose type
        differs from the column's first one (a field sent as a number here, text there)."""
        first = self.types.setdefault((table, name), type(value))
        return name if first is type(value) else f"{name}__v_{VARIANT.get(type(value), 'text')}"

    def add(self, table: str, row: dict[str, Any]) -> None:
        rows = self.rows.setdefault(table, [])
        rows.append(row)
        if len(rows) >= BATCH_ROWS:
            self.flush(table)

    def flush(self, table: str) -> None:
        rows = self.rows.pop(table, [])
        if rows:
            self.chunks.setdefault(table, []).append(pa.Table.from_pylist(rows))

    def finish(self) -> dict[str, pa.Table]:
        for table in list(self.rows):
            self.flush(table)
        return {t: pa.concat_tables(c, promote_options="permissive") for t, c in self.chunks.items()}


def flatten(tables: Tables, table: str, record: dict[str, Any], json_columns: dict[str, set[str]],
            parent_id: str | None = None, list_idx: int | None = None) -> None:
    row: dict[str, Any] = {}
    row_id = uuid.uuid4().hex
    children: list[tuple[str, list]] = []

    def walk(prefix: str, value: dict[str, Any]) -> None:
        for key, v in value.items():
            name = f"{prefix}{key}"
            if v is None:
                continue
            if name in json_columns.get(table, ()):
                row[name] = json.dumps(v)
            elif isinstance(v, dict):
                walk(f"{name}__", v)
            elif isinstance(v, list):
                children.append((name, v))
            else:
                row[tables.column(table, name, v)] = v

    walk("", record)
    row["_dlt_id"] = row_id
    if parent_id is not None:
        row["_dlt_parent_id"], row["_dlt_list_idx"] = parent_id, list_idx
    tables.add(table, row)
    for name, items in children:
        child = f"{table}__{name}"
        for i, item in enumerate(items):
            if isinstance(item, dict):
                flatten(tables, child, item, json_columns, row_id, i)
            elif item is not None:
                tables.add(child, {tables.column(child, "value", item): item, "_dlt_id": uuid.uuid4().hex,
                                   "_dlt_parent_id": row_id, "_dlt_list_idx": i})


def pages(session: requests.Session, url: str, params: dict[str, Any]) -> Iterator[list[dict]]:
    page = 1
    while page:
        response = session.get(url, params={**params, "per_page": PER_PAGE, "page": page}, timeout=60)
        response.raise_for_status()
        body = response.json()
        yield body["data"]
        page = (body.get("pagination") or {}).get("next")


def load(base_url: str, db_path: str, exclude: frozenset[str] = frozenset()) -> dict[str, int]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {DEFAULT_TOKEN}"
    tables = Tables()
    for endpoint in (e for e in ENDPOINTS if e.name not in exclude):
        json_columns = {t: json_column_names(c) for t, c in endpoint.declared_tables().items()}
        for data in pages(session, f"{base_url.rstrip('/')}/{endpoint.path}", dict(endpoint.params)):
            for record in data:
                flatten(tables, endpoint.name, record, json_columns)
    arrow = tables.finish()
    with duckdb.connect(db_path) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        for name, table in arrow.items():
            con.register("arrow_input", table)
            con.execute(f'create or replace table {SCHEMA}."{name}" as select * from arrow_input')
            con.unregister("arrow_input")
    return {name: table.num_rows for name, table in arrow.items()}


if __name__ == "__main__":
    from benchmarks.measure import run_loader

    run_loader(load)
