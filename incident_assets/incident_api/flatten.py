"""A page's records as columns per table, the layout of dlt's relational normalizer.

Nested objects become `parent__child` columns, lists `<table>__<field>` tables linked by
`_dlt_parent_id` / `_dlt_list_idx` / `_dlt_root_id`, lists of scalars a `value` column, every
key named as dlt's naming convention names it (`Owner Email` -> `owner_email`, non-ASCII
letters replaced). Declared JSON columns arrive as JSON text (pages.py), plain strings here.

Two ways, same result: `PageFlattener` with vectorized Arrow operations on the page as one
Arrow struct array (the usual case), `RowFlattener` value by value, mirroring dlt's `_flatten`,
for a page Arrow cannot hold as it is (a field a number in one record and a string in the
next, two keys that name the same column).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.normalizers.naming import NamingConvention

ROOT_KEY, PARENT_KEY, ROW_KEY, LIST_IDX = "_dlt_root_id", "_dlt_parent_id", "_dlt_id", "_dlt_list_idx"
KEYS = (ROW_KEY, PARENT_KEY, ROOT_KEY, LIST_IDX)
LOAD_ID = "_dlt_load_id"
EMPTY_KEY = "_empty"  # dlt's name for an empty or blank key


class RowByRow(Exception):
    """Arrow cannot hold this page exactly: it takes the row-by-row path."""


class Names:
    """Keys and paths as dlt names them, each key normalized once per run."""

    def __init__(self, naming: NamingConvention) -> None:
        self.naming = naming
        self._keys: dict[str, str] = {}
        self._tables: dict[str, str] = {}

    def key(self, key: str) -> str:
        name = self._keys.get(key)
        if name is None:
            name = self._keys[key] = self.naming.normalize_identifier(key) if key and not key.isspace() else EMPTY_KEY
        return name

    def alias(self, key: str, name: str) -> None:
        """`key` is named `name` (a variant key, mixed.py)."""
        self._keys[key] = name

    def table_key(self, key: str) -> str:
        name = self._tables.get(key)
        if name is None:
            name = self._tables[key] = (self.naming.normalize_table_identifier(key)
                                        if key and not key.isspace() else EMPTY_KEY)
        return name

    def join(self, *fragments: str) -> str:
        return fragments[0] if len(fragments) == 1 else self.naming.shorten_fragments(*fragments)


Columns = dict[str, dict[str, Any]]  # table -> column -> Arrow array (vectorized) or values


class PageFlattener:
    """One page's records (an Arrow struct array) as Arrow columns per table."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.out: dict[str, dict[str, pa.Array]] = {}

    def page(self, root: str, data: pa.StructArray, root_ids: pa.Array, load_id: str) -> Columns:
        columns = {ROW_KEY: root_ids, LOAD_ID: pa.array([load_id] * len(data), pa.string())}
        self.table(root, data, columns, root_ids, root_ids)
        return self.out

    def table(self, table: str, data: pa.StructArray, columns: dict[str, pa.Array],
              row_ids: pa.Array, root_ids: pa.Array) -> None:
        self.out[table] = columns
        self.fields(table, data, (), columns, row_ids, root_ids)

    def fields(self, table: str, data: pa.StructArray, path: tuple[str, ...],
               columns: dict[str, pa.Array], row_ids: pa.Array, root_ids: pa.Array) -> None:
        for field, child in zip(data.type, data.flatten()):
            key = self.names.key(field.name)
            if pa.types.is_null(field.type):
                continue  # as dlt: no column until a value arrives
            if pa.types.is_struct(field.type):
                self.fields(table, child, path + (key,), columns, row_ids, root_ids)
            elif pa.types.is_list(field.type):
                self.child_table(self.names.join(table, *path, self.names.table_key(field.name)),
                                 child, row_ids, root_ids)
            else:
                name = self.names.join(*path, key)
                if name in columns:
                    raise RowByRow(f"two keys make the column `{table}.{name}`")
                columns[name] = child

    def child_table(self, table: str, lists: pa.ListArray, parent_ids: pa.Array, root_ids: pa.Array) -> None:
        if pa.types.is_list(lists.type.value_type):
            raise RowByRow(f"a list of lists in `{table}`")
        if table in self.out:
            raise RowByRow(f"two lists make the table `{table}`")
        items = pc.list_flatten(lists)
        if not len(items):
            return
        parents = pc.list_parent_indices(lists)
        # an item's index in its list: its position minus where its list starts
        lengths = pc.cast(pc.list_value_length(lists).fill_null(0), pa.int64())
        starts = pc.subtract(pc.cumulative_sum(lengths), lengths)
        idx = pc.subtract(pa.array(range(len(items)), pa.int64()), starts.take(parents))
        item_parents, item_roots = parent_ids.take(parents), root_ids.take(parents)
        row_ids = pc.binary_join_element_wise(item_parents, pc.cast(idx, pa.string()), ".")
        columns = {ROW_KEY: row_ids, PARENT_KEY: item_parents, ROOT_KEY: item_roots, LIST_IDX: idx}
        # as dlt: a null item is a row too, with its keys only
        if pa.types.is_struct(items.type):
            self.table(table, items, columns, row_ids, item_roots)
        else:
            if not pa.types.is_null(items.type):
                columns["value"] = items
            self.out[table] = columns


class RowFlattener:
    """The row-by-row path: rows per table as flat dicts, exactly as dlt's `_flatten` makes them
    (a later key naming the same column wins; nested objects after the keys beside them)."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def add_root(self, root: str, record: dict[str, Any], root_id: str, load_id: str) -> None:
        row = {ROW_KEY: root_id, LOAD_ID: load_id}
        self.rows[root].append(row)
        self.flatten(root, record, row, root_id, root_id)

    def flatten(self, table: str, record: dict[str, Any], row: dict[str, Any], row_id: str, root_id: str) -> None:
        lists: dict[tuple[str, ...], list[Any]] = {}
        stack: list[tuple[dict[str, Any], tuple[str, ...]]] = [(record, ())]
        while stack:
            current, path = stack.pop()
            for key, value in current.items():
                name = self.names.key(key)
                if type(value) is dict:
                    stack.append((value, path + (name,)))
                elif type(value) is list:
                    lists[path + (self.names.table_key(key),)] = value
                else:
                    row[self.names.join(*path, name)] = value
        for path, items in lists.items():
            self.add_list(self.names.join(table, *path), items, row_id, root_id)

    def add_list(self, table: str, items: list[Any], parent_id: str, root_id: str) -> None:
        rows = self.rows[table]
        for idx, item in enumerate(items):
            row_id = f"{parent_id}.{idx}"
            row = {ROW_KEY: row_id, PARENT_KEY: parent_id, ROOT_KEY: root_id, LIST_IDX: idx}
            rows.append(row)
            if type(item) is dict:
                self.flatten(table, item, row, row_id, root_id)
            elif item is not None:
                row["value"] = item

    def columns(self) -> Columns:
        """Values per column per table, rows without a column holding null there."""
        out: Columns = {}
        for table, rows in self.rows.items():
            names: dict[str, None] = {}
            for row in rows:
                names.update(dict.fromkeys(row))
            out[table] = {name: [row.get(name) for row in rows] for name in names}
        return out
