"""Incidents as Arrow tables: the tables dlt's normalizer would make, built a batch at a time.

Why: incidents are the bulk of the data (100,000 incidents come with about a million child
rows), and dlt's relational normalizer nests them row by row in Python: 43 s of a 90 s run
(README, Performance). Arrow tables skip that pass; dlt writes them straight to parquet.

The layout is the normalizer's: nested objects become `parent__child` columns, lists become
`incidents__<field>` tables linked by `_dlt_parent_id` / `_dlt_list_idx` / `_dlt_root_id`,
lists of scalars a `value` column, ISO-8601 strings timestamps, declared JSON columns JSON.

How the child tables stay exact under merge: dlt 1.31 cannot take Arrow tables into *nested*
tables (its extract metrics look up a `resource` that nested tables must not have), so each
list is a table of its own, merged with `delete-insert` on `_dlt_root_id`: a changed incident
replaces all its rows. The root `_dlt_id` is a digest of the incident id, the same in every
load, so that key finds the rows an earlier load wrote. An incident with no rows for a child
table the destination already has sends a tombstone (`_dlt_deleted`, dlt's `hard_delete` hint)
so the rows of a list that became empty go too; tombstones are never inserted.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from typing import Any, Iterable, Iterator, Optional

import dlt
import pyarrow as pa
from dlt.common import json
from dlt.common.utils import digest128
from dlt.extract import DltResource

from incident_assets.incident_api.endpoints import Endpoint, json_column_names
from incident_assets.incident_api.http import IncidentApiError

# incidents per set of yielded tables: big enough for few parquet row groups, small in memory
BATCH_INCIDENTS = 5_000
TOMBSTONE = "_dlt_deleted"
ROOT_KEY, PARENT_KEY, ROW_KEY, LIST_IDX = "_dlt_root_id", "_dlt_parent_id", "_dlt_id", "_dlt_list_idx"

ARROW_TYPES = {
    "text": pa.string(),
    "json": pa.string(),  # JSON text, typed JSON by the column hint
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}
# the type of a value that does not fit its declared column: dlt's variant column suffix
VARIANT_TYPES = ((bool, "bool"), (int, "bigint"), (float, "double"), (str, "text"))
ISO_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$")


class IncidentTables:
    """Declares the child tables on the incidents resource and turns pages into Arrow tables."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.root = endpoint.name
        self.declared = endpoint.declared_tables()
        self.json_columns = {table: json_column_names(cols) for table, cols in self.declared.items()}
        self.children: set[str] = set(self.declared) - {self.root}
        # child tables the destination already has: only their rows can need a tombstone
        self.loaded: set[str] = set()
        # records left out by `batches`, per reason (reported by the asset)
        self.skipped: Counter[str] = Counter()

    # --- hints -----------------------------------------------------------------------------

    def declare_children(self, resource: DltResource) -> None:
        """Hints for the declared child tables, on a new incidents resource."""
        for table in sorted(self.children):
            self.apply_child_hints(resource, table)

    def apply_child_hints(self, resource: DltResource, table: str) -> None:
        """A child table: merged on its root key, tombstones deleted, columns as declared."""
        columns = [
            {**c, "nullable": True}  # a tombstone carries keys only
            for c in self.declared.get(table, {}).values()
        ] + [
            {"name": ROW_KEY, "data_type": "text", "nullable": False, "unique": True},
            {"name": PARENT_KEY, "data_type": "text", "nullable": False},
            {"name": ROOT_KEY, "data_type": "text", "nullable": False},
            {"name": LIST_IDX, "data_type": "bigint", "nullable": False},
            {"name": TOMBSTONE, "data_type": "bool", "nullable": True, "hard_delete": True},
        ]
        # a table variant starts as a copy of the resource's (root) hints: clear those first
        resource.apply_hints(table_name=table, create_table_variant=True, columns={}, primary_key=[])
        resource.apply_hints(
            table_name=table,
            create_table_variant=True,
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
            merge_key=ROOT_KEY,
            columns=columns,
        )

    def known_children(self, resource: DltResource) -> None:
        """Child tables an earlier load created: a changed incident must clear those too."""
        for name, table in dlt.current.source_schema().tables.items():
            if not name.startswith(f"{self.root}__"):
                continue
            if table.get("parent"):
                raise IncidentApiError(
                    f"`{name}` in this destination is a dlt nested table, the layout of loads "
                    "before incidents went through Arrow tables: materialize "
                    f"incident_api/{self.root} once with run config `drop_and_reload: true` "
                    "to rebuild its tables"
                )
            if table.get("resource") == self.root:
                self.add_child(resource, name)
                self.loaded.add(name)

    def add_child(self, resource: DltResource, table: str) -> None:
        if table not in self.children:
            self.children.add(table)
            self.apply_child_hints(resource, table)

    # --- data --------------------------------------------------------------------------------

    def batches(
        self, pages: Iterable[list[dict[str, Any]]], resource: DltResource
    ) -> Iterator[Any]:
        """Arrow tables for every BATCH_INCIDENTS incidents of `pages`, each marked with its table.

        An incident served twice in one run (a page shifting while it is read) is taken once:
        the first copy, so its root row and child rows agree. Records left out are counted
        in `skipped`.
        """
        hide_arrow_json_hint_notice()  # the run's normalize step would log it
        load_id = dlt.current.load_package_state()["load_id"]
        seen: set[str] = set()
        batch = Batch()
        for page in pages:
            for record in page:
                if not isinstance(record, dict) or record.get("id") is None:
                    self.skipped["no `id`"] += 1
                    continue
                if record["id"] in seen:
                    self.skipped["served twice in one run"] += 1
                    continue
                seen.add(record["id"])
                batch.add_root(self, record, load_id)
            if len(batch.root_ids) >= BATCH_INCIDENTS:
                yield from self.emit(batch, resource)
                batch = Batch()
        if batch.root_ids:
            yield from self.emit(batch, resource)

    def emit(self, batch: Batch, resource: DltResource) -> Iterator[Any]:
        for table in batch.rows:
            if table != self.root:
                self.add_child(resource, table)
        for table in sorted(self.loaded):
            batch.add_tombstones(table)
        yield self.to_arrow(self.root, batch.rows.pop(self.root))
        for table, rows in batch.rows.items():
            yield dlt.mark.with_table_name(self.to_arrow(table, rows), table)

    def to_arrow(self, table: str, rows: list[dict[str, Any]]) -> pa.Table:
        names: dict[str, None] = {}
        for row in rows:
            names.update(dict.fromkeys(row))
        declared = self.declared.get(table, {})
        arrays: dict[str, pa.Array] = {}
        for name in names:
            values = [row.get(name) for row in rows]
            hint = declared.get(name)
            for column, array in typed_columns(name, values, hint["data_type"] if hint else None):
                arrays[column] = array
        fields = [pa.field(n, a.type, nullable=not non_null(table == self.root, n, declared))
                  for n, a in arrays.items()]
        return pa.Table.from_arrays(list(arrays.values()), schema=pa.schema(fields))


def non_null(is_root: bool, name: str, declared: dict[str, dict[str, Any]]) -> bool:
    if name in (ROW_KEY, PARENT_KEY, ROOT_KEY, LIST_IDX):
        return True
    return is_root and declared.get(name, {}).get("nullable") is False


class Batch:
    """Rows per table, as flat dicts, for a batch of incidents."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.root_ids: list[str] = []
        # root ids that have at least one row, per child table
        self.with_rows: dict[str, set[str]] = defaultdict(set)

    def add_root(self, tables: IncidentTables, record: dict[str, Any], load_id: str) -> None:
        root_id = digest128(record["id"])
        row = {ROW_KEY: root_id, "_dlt_load_id": load_id}
        self.flatten(tables.root, record, row, "", root_id, root_id, tables.json_columns)
        self.rows[tables.root].append(row)
        self.root_ids.append(root_id)

    def flatten(self, table: str, value: dict[str, Any], row: dict[str, Any], prefix: str,
                row_id: str, root_id: str, json_columns: dict[str, set[str]]) -> None:
        for key, v in value.items():
            if v is None:
                continue  # as dlt: no column until a value arrives
            name = prefix + key
            if name in json_columns.get(table, ()):
                row[name] = json.dumps(v)
            elif isinstance(v, dict):
                self.flatten(table, v, row, f"{name}__", row_id, root_id, json_columns)
            elif isinstance(v, list):
                self.add_list(f"{table}__{name}", v, row_id, root_id, json_columns)
            else:
                row[name] = v

    def add_list(self, table: str, items: list[Any], parent_id: str, root_id: str,
                 json_columns: dict[str, set[str]]) -> None:
        rows = self.rows[table]
        for idx, item in enumerate(items):
            if item is None:
                continue
            row_id = f"{parent_id}.{idx}"
            row = {ROW_KEY: row_id, PARENT_KEY: parent_id, ROOT_KEY: root_id, LIST_IDX: idx}
            if isinstance(item, dict):
                self.flatten(table, item, row, "", row_id, root_id, json_columns)
            else:
                row["value"] = item
            rows.append(row)
            self.with_rows[table].add(root_id)

    def add_tombstones(self, table: str) -> None:
        has_rows = self.with_rows[table]
        self.rows[table].extend(
            {ROW_KEY: f"{root_id}.deleted", PARENT_KEY: root_id, ROOT_KEY: root_id, LIST_IDX: -1,
             TOMBSTONE: True}
            for root_id in self.root_ids if root_id not in has_rows
        )


def typed_columns(name: str, values: list[Any], declared: Optional[str]) -> list[tuple[str, pa.Array]]:
    """`name` as an Arrow array of its declared type (or inferred like dlt does).

    A value that does not fit the declared type moves to a variant column beside it
    (`number__v_text`), as dlt's normalizer does: the original column keeps its type.
    """
    if declared is None:
        array = pa.array(values)
        if pa.types.is_string(array.type) and looks_like_timestamps(values):
            try:
                return [(name, array.cast(ARROW_TYPES["timestamp"]))]
            except pa.ArrowInvalid:
                pass
        return [(name, array)]
    try:
        return [(name, to_type(values, declared))]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    fits = [v if v is None or value_fits(v, declared) else None for v in values]
    columns = [(name, to_type(fits, declared))]
    for python_type, data_type in VARIANT_TYPES:
        odd = [v if v is not None and fits[i] is None and type(v) is python_type else None
               for i, v in enumerate(values)]
        if any(v is not None for v in odd):
            columns.append((f"{name}__v_{data_type}", pa.array(odd, ARROW_TYPES[data_type])))
    return columns


def to_type(values: list[Any], data_type: str) -> pa.Array:
    if data_type == "timestamp":
        return pa.array(values, pa.string()).cast(ARROW_TYPES["timestamp"])
    return pa.array(values, ARROW_TYPES[data_type])


def value_fits(value: Any, data_type: str) -> bool:
    if data_type == "timestamp":
        return isinstance(value, str) and bool(ISO_TIMESTAMP.match(value))
    if data_type in ("text", "json"):
        return isinstance(value, str)
    if data_type == "bigint":
        return isinstance(value, int) and not isinstance(value, bool)
    if data_type == "double":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, bool)


def looks_like_timestamps(values: list[Any]) -> bool:
    """dlt's `iso_timestamp` detection: every value an ISO-8601 date-time string."""
    present = [v for v in values if v is not None]
    return bool(present) and all(ISO_TIMESTAMP.match(v) for v in present)


class _ArrowJsonHintNotice(logging.Filter):
    """dlt warns when an Arrow column's type differs from its hint. Declared JSON columns are
    JSON text in Arrow on purpose (the same on every destination), so that notice is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


def hide_arrow_json_hint_notice() -> None:
    """Filters that one notice out of dlt's log, once per process, when a load runs (not on
    import: importing the definitions changes no logging)."""
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _ArrowJsonHintNotice) for f in dlt_logger.filters):
        dlt_logger.addFilter(_ArrowJsonHintNotice())
