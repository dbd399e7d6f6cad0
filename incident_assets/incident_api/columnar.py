"""Endpoints as Arrow tables: the tables dlt's normalizer would make, built a page at a time.

Why: incidents, alerts and tickets are the bulk of the data (100,000 incidents come with about a
million child rows, alerts and tickets are as many as the incidents or more), and dlt's relational
normalizer nests them row by row in Python. Here a page is parsed once (pages.py), becomes one
Arrow struct array, and its nested objects and lists become columns and child tables with
vectorized Arrow operations (flatten.py), typed as dlt types them (coercion.py); dlt writes the
tables straight to parquet. A page Arrow cannot hold as it is (a field a number in one record
and a string in the next) takes the row-by-row path, that page alone, with the same result;
the first such page of an endpoint is logged with the reason.

Child tables are tables of their own (dlt 1.31 cannot take Arrow tables into *nested* tables:
its extract metrics look up a `resource` that nested tables must not have). The root `_dlt_id`
is a digest of the record id, the same in every load. Two ways to keep child tables exact:
- merge (incidents, change events, retrospectives): each child table is merged with `delete-insert` on `_dlt_root_id`, so a
  changed incident replaces all its rows; an incident with no rows for a child table the
  destination already has sends a tombstone (`_dlt_deleted`, dlt's `hard_delete` hint) so the
  rows of a list that became empty go too; tombstones are never inserted.
  The first load of such an endpoint is appended instead (`append_on_first_load`): nothing to
  replace yet, and a merge's staging tables and deduplicating insert were most of its time.
- replace (alerts and tickets, listed whole each run): every table of the endpoint is replaced, child
  tables that got no rows this run included.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any, Iterable, Iterator, Literal, Optional

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.schema.utils import has_table_seen_data
from dlt.common.utils import digest128
from dlt.extract import DltResource

from incident_assets.incident_api.coercion import ARROW_ERRORS, ColumnTypes, UnsupportedValue
from incident_assets.incident_api.endpoints import Endpoint, ingestion_asset_path, json_column_names
from incident_assets.incident_api.flatten import (
    KEYS, LIST_IDX, LOAD_ID, PARENT_KEY, ROOT_KEY, ROW_KEY, Columns, Names, PageFlattener, RowByRow,
    RowFlattener)
from incident_assets.incident_api.http import IncidentApiError, read_ahead
from incident_assets.incident_api.mixed import Path, mixed_paths, settle
from incident_assets.incident_api.pages import Page, json_paths

# records per set of yielded tables: big enough for few parquet row groups, small in memory
BATCH_RECORDS = 5_000
# batches built ahead per endpoint, while dlt writes the one before
READ_AHEAD_BATCHES = 1
TOMBSTONE = "_dlt_deleted"

Disposition = Literal["merge", "replace", "append"]


class ArrowTables:
    """Declares an endpoint's child tables on its resource and turns its pages into Arrow tables.

    `merge`: child tables merged on the root key, with tombstones (incidents). `replace`: every
    table replaced each run (endpoints listed whole, like alerts).
    """

    def __init__(self, endpoint: Endpoint, disposition: Disposition) -> None:
        self.root = endpoint.name
        self.disposition = disposition
        self.declared = endpoint.declared_tables()
        self.json_paths = json_paths(self.root, {t: json_column_names(c) for t, c in self.declared.items()})
        self.children: set[str] = set(self.declared) - {self.root}
        # child tables the destination already has: only their rows can need a tombstone
        self.loaded: set[str] = set()
        # records left out by `batches`, per reason (reported by the asset)
        self.skipped: Counter[str] = Counter()
        # child tables that got rows this run (replace: the others are emptied at the end)
        self.filled: set[str] = set()
        # pages that took the row-by-row path, per reason (the first one is logged)
        self.row_by_row: Counter[str] = Counter()
        self.logger = logging.getLogger(__name__)
        # fields found sent as a number here and a string there: settled on every page (mixed.py)
        self.mixed: set[Path] = set()

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
        if self.disposition in ("replace", "append"):
            resource.apply_hints(table_name=table, create_table_variant=True,
                                 write_disposition=self.disposition, columns=columns)
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
                    f"{'/'.join(ingestion_asset_path(self.root))} once with run config `drop_and_reload: true` "
                    "to rebuild its tables"
                )
            if table.get("resource") == self.root:
                self.add_child(resource, name)
                self.loaded.add(name)

    def append_on_first_load(self, resource: DltResource) -> None:
        """Merge: the first load of the endpoint (its root table has never received data) is
        appended instead, every table straight into the destination. With nothing loaded yet,
        merging gives the same rows (`batches` takes each record once per run, child rows are
        unique by construction), but goes through staging tables and a deduplicating insert:
        most of a first load's time in the destination and its peak memory."""
        root = dlt.current.source_schema().tables.get(self.root)
        if self.disposition != "merge" or (root is not None and has_table_seen_data(root)):
            return
        self.disposition = "append"
        for table in sorted(self.children):
            self.apply_child_hints(resource, table)

    def add_child(self, resource: DltResource, table: str) -> None:
        if table not in self.children:
            self.children.add(table)
            self.apply_child_hints(resource, table)

    # --- data --------------------------------------------------------------------------------

    def batches(self, pages: Iterable[Page], resource: DltResource) -> Iterator[Any]:
        """Arrow tables for every BATCH_RECORDS records of `pages` (read by `pages.PageReader`),
        each marked with its table.

        The next batch is read and built in a thread of its own while dlt writes this one: dlt
        takes a batch at a time from one endpoint after the other, and meanwhile the others'
        pages keep coming. A record served twice in one run (a page shifting while it is read)
        is taken once: the first copy, so its root row and child rows agree. Records left out
        are counted in `skipped`.
        """
        hide_arrow_json_hint_notice()  # the run's normalize step would log it
        # dlt's context belongs to the extracting thread: read here, not in the read-ahead thread
        load_id = dlt.current.load_package_state()["load_id"]
        schema = dlt.current.source_schema()
        names, types = Names(schema.naming), self.column_types(schema)
        for tables in read_ahead(self.built_batches(pages, load_id, names, types), READ_AHEAD_BATCHES):
            yield from self.emit(tables, resource)
        if self.disposition == "replace":
            yield from self.empty_children()

    def built_batches(self, pages: Iterable[Page], load_id: str, names: Names,
                      types: ColumnTypes) -> Iterator[dict[str, pa.Table]]:
        """One table per table for every BATCH_RECORDS records of `pages`."""
        seen: set[str] = set()
        parts: dict[str, list[pa.Table]] = defaultdict(list)
        size = 0
        for page in pages:
            records = self.first_copies(page.records, seen)
            if not records:
                continue
            for table, arrow in self.page_tables(records, load_id, names, types).items():
                parts[table].append(arrow)
            size += len(records)
            if size >= BATCH_RECORDS:
                yield self.batch_tables(parts)
                parts, size = defaultdict(list), 0
        if size:
            yield self.batch_tables(parts)

    def column_types(self, schema: dlt.Schema) -> ColumnTypes:
        """Declared types, then the types earlier loads gave this endpoint's other columns."""
        known = {t: {n: c["data_type"] for n, c in cols.items()} for t, cols in self.declared.items()}
        for name, table in schema.tables.items():
            if name == self.root or name.startswith(f"{self.root}__"):
                for column, hints in table.get("columns", {}).items():
                    if hints.get("data_type") and not column.startswith("_dlt"):
                        known.setdefault(name, {}).setdefault(column, hints["data_type"])
        return ColumnTypes(known, schema.naming, schema.settings.get("detections") or ())

    def first_copies(self, records: list[Any], seen: set[str]) -> list[dict[str, Any]]:
        """The page's records to load: each id once (the first copy), never a record without an
        id; the others are counted in `skipped`."""
        taken = []
        for record in records:
            record_id = record.get("id") if isinstance(record, dict) else None
            if record_id is None:
                self.skipped["no `id`"] += 1
            elif record_id in seen:
                self.skipped["served twice in one run"] += 1
            else:
                seen.add(record_id)
                taken.append(record)
        return taken

    def page_tables(self, records: list[dict[str, Any]], load_id: str, names: Names,
                    types: ColumnTypes) -> dict[str, pa.Table]:
        """One page as typed Arrow tables: vectorized, else (that page only) row by row."""
        root_ids = [digest128(r["id"]) for r in records]
        try:
            data = self.struct_array(records, names, types)
            if not pa.types.is_struct(data.type):
                raise RowByRow("records that are not JSON objects")
            columns: Columns = PageFlattener(names).page(self.root, data, pa.array(root_ids, pa.string()), load_id)
        except (RowByRow, OverflowError, *ARROW_ERRORS) as e:  # OverflowError: an integer beyond 64 bits
            columns = self.row_by_row_columns(records, root_ids, load_id, names, str(e))
        try:
            return {table: self.typed_table(table, table_columns, types)
                    for table, table_columns in columns.items()}
        except UnsupportedValue as e:
            raise IncidentApiError(f"endpoint {self.root}: {e}") from None

    def struct_array(self, records: list[dict[str, Any]], names: Names, types: ColumnTypes) -> pa.Array:
        """The page as one Arrow array, fields of mixed scalar types settled first."""
        for path in sorted(self.mixed):
            settle(records, self.root, path, names, types)
        try:
            return pa.array(records)
        except ARROW_ERRORS:
            new = mixed_paths(records) - self.mixed
            if not new:
                raise
        self.mixed |= new
        for path in sorted(new):
            settle(records, self.root, path, names, types)
        return pa.array(records)

    def row_by_row_columns(self, records: list[dict[str, Any]], root_ids: list[str], load_id: str,
                           names: Names, reason: str) -> Columns:
        if not self.row_by_row:
            self.logger.warning(
                f"{self.root}: a page of {len(records)} records took the row-by-row path, slower "
                f"than the vectorized one ({reason}); further such pages of {self.root} are counted, not logged")
        self.row_by_row[reason] += 1
        rows = RowFlattener(names)
        for record, root_id in zip(records, root_ids):
            rows.add_root(self.root, record, root_id, load_id)
        return rows.columns()

    def typed_table(self, table: str, columns: dict[str, Any], types: ColumnTypes) -> pa.Table:
        arrays: dict[str, pa.Array] = {}
        for name, values in columns.items():
            if name in KEYS or name == LOAD_ID:
                arrays[name] = values if isinstance(values, pa.Array) else pa.array(
                    values, pa.int64() if name == LIST_IDX else pa.string())
            elif isinstance(values, pa.Array):
                arrays.update(types.arrow_column(table, name, values))
            else:
                arrays.update(types.python_column(table, name, values))
        return pa.table(arrays)

    def batch_tables(self, parts: dict[str, list[pa.Table]]) -> dict[str, pa.Table]:
        """The pages of a batch as one table per table (a column missing from a page: nulls)."""
        return {table: self.with_schema(table, pa.concat_tables(chunks, promote_options="default"))
                for table, chunks in parts.items()}

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
        root = tables.pop(self.root)
        # the root's disposition travels with its items: dlt extracts a copy of the resource,
        # whose root hints (unlike its table variants) are its own
        yield dlt.mark.with_hints(root, dlt.mark.make_hints(write_disposition="append")) \
            if self.disposition == "append" else root
        for table, arrow in tables.items():
            if arrow.num_rows:
                yield dlt.mark.with_table_name(arrow, table)

    def empty_children(self) -> Iterator[Any]:
        """Replace: a table that got no rows this run, the root or a child, is emptied too
        (an empty table still makes dlt replace it)."""
        for table in sorted(({self.root} | self.children | self.loaded) - self.filled):
            keys = (ROW_KEY,) if table == self.root else KEYS
            empty = self.with_schema(table, pa.table({k: pa.array([], pa.int64() if k == LIST_IDX else pa.string())
                                                      for k in keys}))
            yield dlt.mark.with_table_name(empty, table)

    def with_schema(self, table: str, arrow: pa.Table) -> pa.Table:
        declared = self.declared.get(table, {})
        fields = [pa.field(f.name, f.type, nullable=not non_null(table == self.root, f.name, declared))
                  for f in arrow.schema]
        return pa.Table.from_arrays(arrow.columns, schema=pa.schema(fields))


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
    if name in KEYS:
        return True
    return is_root and declared.get(name, {}).get("nullable") is False


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
