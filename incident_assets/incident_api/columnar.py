"""Endpoints as Arrow tables: the tables dlt's normalizer would make, built a batch at a time.

Why: incidents and alerts are the bulk of the data (100,000 incidents come with about a million
child rows, and alerts are several times the incidents), and dlt's relational normalizer nests
them row by row in Python. Here a page goes from its bytes to Arrow in Arrow's JSON reader
(`arrow_page_hook`), and nested objects and lists become columns and child tables with
vectorized Arrow operations (`PageFlattener`); dlt writes the tables straight to parquet.
A page Arrow cannot represent (a field changing type, say) takes the row-by-row path (`Batch`),
which does what the normalizer does, value by value.

The layout is the normalizer's: nested objects become `parent__child` columns, lists become
`<table>__<field>` tables linked by `_dlt_parent_id` / `_dlt_list_idx` / `_dlt_root_id`,
lists of scalars a `value` column, ISO-8601 strings timestamps, declared JSON columns JSON.

Child tables are tables of their own (dlt 1.31 cannot take Arrow tables into *nested* tables:
its extract metrics look up a `resource` that nested tables must not have). The root `_dlt_id`
is a digest of the record id, the same in every load. Two ways to keep child tables exact:
- merge (incidents): each child table is merged with `delete-insert` on `_dlt_root_id`, so a
  changed incident replaces all its rows; an incident with no rows for a child table the
  destination already has sends a tombstone (`_dlt_deleted`, dlt's `hard_delete` hint) so the
  rows of a list that became empty go too; tombstones are never inserted.
- replace (alerts, listed whole each run): every table of the endpoint is replaced, child
  tables that got no rows this run included.
"""

from __future__ import annotations

import io
import logging
import re
from collections import Counter, defaultdict
from typing import Any, Iterable, Iterator, Literal, Optional

import dlt
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import requests
from dlt.common import json
from dlt.common.utils import digest128
from dlt.extract import DltResource

from incident_assets.incident_api.endpoints import Endpoint, ingestion_asset_key, json_column_names
from incident_assets.incident_api.http import IncidentApiError

# records per set of yielded tables: big enough for few parquet row groups, small in memory
BATCH_RECORDS = 5_000
TOMBSTONE = "_dlt_deleted"
ROOT_KEY, PARENT_KEY, ROW_KEY, LIST_IDX = "_dlt_root_id", "_dlt_parent_id", "_dlt_id", "_dlt_list_idx"
KEYS = (ROW_KEY, PARENT_KEY, ROOT_KEY, LIST_IDX)
LOAD_ID = "_dlt_load_id"

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
# a whole page is one JSON line: one block holds it, so the reader never splits it
READ_OPTIONS = pa_json.ReadOptions(block_size=1 << 30, use_threads=False)
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


class RowByRow(Exception):
    """Arrow cannot represent this batch exactly: it takes the row-by-row path."""


def arrow_page_hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """requests response hook, before `check_response`: a page's `data` parsed by Arrow's JSON
    reader into `response.arrow_data` (a struct array, one element per record).

    The parsed body then holds only `pagination`, which is all the response check, dlt's
    paginator and data selector read, so the page is never parsed into Python objects. A body
    Arrow cannot read is left alone: `check_response` judges it, with its clear errors.
    """
    if response.status_code >= 400:
        return response
    try:
        page = pa_json.read_json(io.BytesIO(response.content), read_options=READ_OPTIONS)
    except ARROW_ERRORS:
        return response
    if page.num_rows != 1 or "data" not in page.column_names:
        return response
    data = page.column("data").chunk(0)
    if not pa.types.is_list(data.type):
        return response
    records = pc.list_flatten(data)
    if len(records) and not pa.types.is_struct(records.type):
        return response
    pagination = page.column("pagination").to_pylist()[0] if "pagination" in page.column_names else None
    response._body = {"data": [], "pagination": pagination}  # type: ignore[attr-defined]
    response.arrow_data = records  # type: ignore[attr-defined]
    return response


Disposition = Literal["merge", "replace"]


class ArrowTables:
    """Declares an endpoint's child tables on its resource and turns its pages into Arrow tables.

    `merge`: child tables merged on the root key, with tombstones (incidents). `replace`: every
    table replaced each run (endpoints listed whole, like alerts).
    """

    def __init__(self, endpoint: Endpoint, disposition: Disposition) -> None:
        self.root = endpoint.name
        self.disposition = disposition
        self.declared = endpoint.declared_tables()
        self.json_columns = {table: json_column_names(cols) for table, cols in self.declared.items()}
        self.children: set[str] = set(self.declared) - {self.root}
        # child tables the destination already has: only their rows can need a tombstone
        self.loaded: set[str] = set()
        # records left out by `batches`, per reason (reported by the asset)
        self.skipped: Counter[str] = Counter()
        # child tables that got rows this run (replace: the others are emptied at the end)
        self.filled: set[str] = set()

    # --- hints -----------------------------------------------------------------------------

    def declare_children(self, resource: DltResource) -> None:
        """Hints for the declared child tables, on a new resource."""
        for table in sorted(self.children):
            self.apply_child_hints(resource, table)

    def apply_child_hints(self, resource: DltResource, table: str) -> None:
        """A child table: keys, columns as declared; merged on its root key with tombstones
        deleted, or replaced like its root."""
        columns = [
            {**c, "nullable": True}  # a tombstone carries keys only
            for c in self.declared.get(table, {}).values()
        ] + [
            {"name": ROW_KEY, "data_type": "text", "nullable": False, "unique": True},
            {"name": PARENT_KEY, "data_type": "text", "nullable": False},
            {"name": ROOT_KEY, "data_type": "text", "nullable": False},
            {"name": LIST_IDX, "data_type": "bigint", "nullable": False},
        ]
        # a table variant starts as a copy of the resource's (root) hints: clear those first
        resource.apply_hints(table_name=table, create_table_variant=True, columns={}, primary_key=[])
        if self.disposition == "replace":
            resource.apply_hints(table_name=table, create_table_variant=True,
                                 write_disposition="replace", columns=columns)
            return
        resource.apply_hints(
            table_name=table,
            create_table_variant=True,
            write_disposition={"disposition": "merge", "strategy": "delete-insert"},
            merge_key=ROOT_KEY,
            columns=columns + [
                {"name": TOMBSTONE, "data_type": "bool", "nullable": True, "hard_delete": True}],
        )

    def known_children(self, resource: DltResource) -> None:
        """Child tables an earlier load created: a changed record must clear those too."""
        for name, table in dlt.current.source_schema().tables.items():
            if not name.startswith(f"{self.root}__"):
                continue
            if table.get("parent"):
                raise IncidentApiError(
                    f"`{name}` in this destination is a dlt nested table, the layout of loads "
                    f"before {self.root} went through Arrow tables: materialize "
                    f"{ingestion_asset_key(self.root).to_user_string()} once with run config `drop_and_reload: true` "
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

    def batches(self, pages: Iterable[Any], resource: DltResource) -> Iterator[Any]:
        """Arrow tables for every BATCH_RECORDS records of `pages` (dlt's page data, with the
        response), each marked with its table.

        A record served twice in one run (a page shifting while it is read) is taken once:
        the first copy, so its root row and child rows agree. Records left out are counted in
        `skipped`.
        """
        hide_arrow_json_hint_notice()  # the run's normalize step would log it
        load_id = dlt.current.load_package_state()["load_id"]
        seen: set[str] = set()
        batch: list[tuple[Any, list[int]]] = []  # (page, positions of the records taken)
        size = 0
        for page in pages:
            taken = self.first_copies(page, seen)
            batch.append((page, taken))
            size += len(taken)
            if size >= BATCH_RECORDS:
                yield from self.emit(self.batch_tables(batch, load_id), resource)
                batch, size = [], 0
        if size:
            yield from self.emit(self.batch_tables(batch, load_id), resource)
        if self.disposition == "replace":
            yield from self.empty_children()

    def first_copies(self, page: Any, seen: set[str]) -> list[int]:
        """Positions of the page's records to load: each id once (the first copy), never a
        record without an id; the others are counted in `skipped`."""
        data = getattr(page.response, "arrow_data", None) if hasattr(page, "response") else None
        if data is not None and len(data):
            ids = data.field("id").to_pylist()
        else:
            ids = [r.get("id") if isinstance(r, dict) else None for r in page]
        taken = []
        for position, record_id in enumerate(ids):
            if record_id is None:
                self.skipped["no `id`"] += 1
            elif record_id in seen:
                self.skipped["served twice in one run"] += 1
            else:
                seen.add(record_id)
                taken.append(position)
        return taken

    def batch_tables(self, batch: list[tuple[Any, list[int]]], load_id: str) -> dict[str, pa.Table]:
        """The batch as one Arrow table per table: vectorized, else row by row."""
        try:
            return self.flatten_vectorized(batch, load_id)
        except (RowByRow, *ARROW_ERRORS):
            rows = Batch()
            for page, taken in batch:
                for position in taken:
                    rows.add_root(self, records_of(page)[position], load_id)
            return {table: self.to_arrow(table, table_rows)
                    for table, table_rows in rows.rows.items() if table_rows}

    def flatten_vectorized(self, batch: list[tuple[Any, list[int]]], load_id: str) -> dict[str, pa.Table]:
        parts: dict[str, list[pa.Table]] = defaultdict(list)
        for page, taken in batch:
            data = getattr(getattr(page, "response", None), "arrow_data", None)
            if data is None:
                raise RowByRow("page not read by Arrow")
            if not taken:
                continue
            if len(taken) < len(data):
                data = data.take(pa.array(taken))
            for table, columns in PageFlattener(self, load_id).page(data).items():
                parts[table].append(pa.table(columns))
        tables = {}
        for table, chunks in parts.items():
            raw = pa.concat_tables(chunks, promote_options="permissive")
            tables[table] = self.typed_table(table, raw)
        return tables

    def typed_table(self, table: str, raw: pa.Table) -> pa.Table:
        declared = self.declared.get(table, {})
        arrays: dict[str, pa.Array] = {}
        for name, column in zip(raw.column_names, raw.columns):
            array = column.combine_chunks()
            if name in KEYS or name == LOAD_ID:
                arrays[name] = array
                continue
            hint = declared.get(name)
            for typed_name, typed in typed_arrow(name, array, hint["data_type"] if hint else None):
                arrays[typed_name] = typed
        return self.with_schema(table, arrays)

    def emit(self, tables: dict[str, pa.Table], resource: DltResource) -> Iterator[Any]:
        root_ids = tables[self.root].column(ROW_KEY)
        for table, arrow in tables.items():
            if table != self.root and arrow.num_rows:
                self.add_child(resource, table)
            if arrow.num_rows:
                self.filled.add(table)
        if self.disposition == "merge":
            for table in sorted(self.loaded):
                tables[table] = with_tombstones(tables.get(table), root_ids)
        yield tables.pop(self.root)
        for table, arrow in tables.items():
            if arrow.num_rows:
                yield dlt.mark.with_table_name(arrow, table)

    def empty_children(self) -> Iterator[Any]:
        """Replace: a table that got no rows this run, the root or a child, is emptied too
        (an empty table still makes dlt replace it)."""
        for table in sorted(({self.root} | self.children | self.loaded) - self.filled):
            keys = (ROW_KEY,) if table == self.root else KEYS
            empty = self.with_schema(table, {k: pa.array([], pa.int64() if k == LIST_IDX else pa.string())
                                             for k in keys})
            yield dlt.mark.with_table_name(empty, table)

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
        return self.with_schema(table, arrays)

    def with_schema(self, table: str, arrays: dict[str, pa.Array]) -> pa.Table:
        declared = self.declared.get(table, {})
        fields = [pa.field(n, a.type, nullable=not non_null(table == self.root, n, declared))
                  for n, a in arrays.items()]
        return pa.Table.from_arrays(list(arrays.values()), schema=pa.schema(fields))


def records_of(page: Any) -> list[dict[str, Any]]:
    """A page's records as Python objects (the row-by-row path): parsed from its bytes when
    Arrow read it, else the page itself."""
    response = getattr(page, "response", None)
    if response is not None and getattr(response, "arrow_data", None) is not None:
        return orjson.loads(response.content)["data"]
    return list(page)


class PageFlattener:
    """One page's records (an Arrow struct array) as columns per table, with vectorized Arrow
    operations: struct fields become `parent__child` columns, lists child tables."""

    def __init__(self, tables: ArrowTables, load_id: str) -> None:
        self.tables = tables
        self.load_id = load_id
        self.out: dict[str, dict[str, pa.Array]] = {}

    def page(self, data: pa.StructArray) -> dict[str, dict[str, pa.Array]]:
        root_ids = pa.array([digest128(i) for i in data.field("id").to_pylist()], pa.string())
        columns = {ROW_KEY: root_ids, LOAD_ID: pa.array([self.load_id] * len(data), pa.string())}
        self.table(self.tables.root, data, columns, root_ids, root_ids)
        return self.out

    def table(self, table: str, data: pa.StructArray, columns: dict[str, pa.Array],
              row_ids: pa.Array, root_ids: pa.Array) -> None:
        self.out[table] = columns
        self.fields(table, data, "", columns, row_ids, root_ids)

    def fields(self, table: str, data: pa.StructArray, prefix: str, columns: dict[str, pa.Array],
               row_ids: pa.Array, root_ids: pa.Array) -> None:
        json_columns = self.tables.json_columns.get(table, ())
        for field, child in zip(data.type, data.flatten()):
            name = prefix + field.name
            if name in json_columns:
                columns[name] = json_text(child)
            elif pa.types.is_null(field.type):
                continue  # as dlt: no column until a value arrives
            elif pa.types.is_struct(field.type):
                self.fields(table, child, f"{name}__", columns, row_ids, root_ids)
            elif pa.types.is_list(field.type):
                self.child_table(f"{table}__{name}", child, row_ids, root_ids)
            else:
                columns[name] = child

    def child_table(self, table: str, lists: pa.ListArray, parent_ids: pa.Array,
                    root_ids: pa.Array) -> None:
        if pa.types.is_list(lists.type.value_type):
            raise RowByRow("a list of lists")
        items = pc.list_flatten(lists)
        parents = pc.list_parent_indices(lists)
        # an item's index in its list: its position minus where its list starts
        lengths = pc.cast(pc.list_value_length(lists).fill_null(0), pa.int64())
        starts = pc.subtract(pc.cumulative_sum(lengths), lengths)
        idx = pc.subtract(pa.array(range(len(items)), pa.int64()), starts.take(parents))
        if not len(items):
            return
        item_parents, item_roots = parent_ids.take(parents), root_ids.take(parents)
        row_ids = pc.binary_join_element_wise(item_parents, pc.cast(idx, pa.string()), ".")
        columns = {ROW_KEY: row_ids, PARENT_KEY: item_parents, ROOT_KEY: item_roots, LIST_IDX: idx}
        if table in self.out:
            raise RowByRow(f"two lists make {table}")
        # as dlt: a null item is a row too, with its keys only
        if pa.types.is_struct(items.type):
            self.table(table, items, columns, row_ids, item_roots)
        else:
            if not pa.types.is_null(items.type):
                columns["value"] = items
            self.out[table] = columns


def json_text(values: pa.Array) -> pa.Array:
    """A declared JSON column as JSON text. Arrow merges the objects' keys (a key missing from
    one record reads as null there), so only values with no null inside convert exactly."""
    if not pa.types.is_null(values.type) and has_inner_nulls(values):
        raise RowByRow("an object with missing or null keys in a JSON column")
    return pa.array([None if v is None else json.dumps(v) for v in values.to_pylist()], pa.string())


def has_inner_nulls(values: pa.Array) -> bool:
    if pa.types.is_struct(values.type):
        return any(child.null_count != values.null_count or has_inner_nulls(child)
                   for child in values.flatten())
    if pa.types.is_list(values.type):
        items = pc.list_flatten(values)
        return pa.types.is_struct(items.type) and has_inner_nulls(items)
    return False


def typed_arrow(name: str, array: pa.Array, declared: Optional[str]) -> list[tuple[str, pa.Array]]:
    """`typed_columns` for a whole Arrow column: the usual cases without leaving Arrow."""
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        raise RowByRow("Arrow's reader turned a string into a timestamp")  # the text is gone
    if declared is None:
        if pa.types.is_string(array.type) and array.null_count < len(array) and bool(
            pc.all(pc.match_substring_regex(array.drop_null(), "^" + ISO_TIMESTAMP.pattern)).as_py()
        ):
            try:
                return [(name, array.cast(ARROW_TYPES["timestamp"]))]
            except ARROW_ERRORS:
                pass
        return [(name, array)]
    target = ARROW_TYPES[declared]
    if array.type == target:
        return [(name, array)]
    if pa.types.is_null(array.type):
        return [(name, pa.nulls(len(array), target))]
    castable = (declared == "timestamp" and pa.types.is_string(array.type)) or (
        declared == "double" and pa.types.is_integer(array.type))
    if castable:
        try:
            return [(name, array.cast(target))]
        except ARROW_ERRORS:
            pass
    return typed_columns(name, array.to_pylist(), declared)


def with_tombstones(rows: Optional[pa.Table], root_ids: pa.Array) -> pa.Table:
    """`rows` plus a tombstone for each root id without rows in it."""
    missing = root_ids if rows is None else root_ids.filter(
        pc.invert(pc.is_in(root_ids, value_set=rows.column(ROOT_KEY).combine_chunks())))
    n = len(missing)
    tombstones = pa.table({
        ROW_KEY: pc.binary_join_element_wise(missing, pa.array([".deleted"] * n, pa.string()), ""),
        PARENT_KEY: missing, ROOT_KEY: missing, LIST_IDX: pa.array([-1] * n, pa.int64()),
        TOMBSTONE: pa.array([True] * n, pa.bool_()),
    })
    if rows is None:
        return tombstones
    return pa.concat_tables([rows, tombstones.cast(pa.schema(
        [rows.schema.field(f.name) if f.name in rows.column_names else f for f in tombstones.schema]))],
        promote_options="default")


def non_null(is_root: bool, name: str, declared: dict[str, dict[str, Any]]) -> bool:
    if name in (ROW_KEY, PARENT_KEY, ROOT_KEY, LIST_IDX):
        return True
    return is_root and declared.get(name, {}).get("nullable") is False


class Batch:
    """The row-by-row path: rows per table, as flat dicts, for a batch of records."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def add_root(self, tables: ArrowTables, record: dict[str, Any], load_id: str) -> None:
        root_id = digest128(record["id"])
        row = {ROW_KEY: root_id, LOAD_ID: load_id}
        self.flatten(tables.root, record, row, "", root_id, root_id, tables.json_columns)
        self.rows[tables.root].append(row)

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
            # as dlt: a null item is a row too, with its keys only
            row_id = f"{parent_id}.{idx}"
            row = {ROW_KEY: row_id, PARENT_KEY: parent_id, ROOT_KEY: root_id, LIST_IDX: idx}
            if isinstance(item, dict):
                self.flatten(table, item, row, "", row_id, root_id, json_columns)
            elif item is not None:
                row["value"] = item
            rows.append(row)


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
