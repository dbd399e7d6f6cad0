"""Column types of the Arrow path, decided as dlt's normalizer decides them.

A column's type is its declared one, else the one an earlier load gave it (the destination's
schema), else the type of its first value (an ISO-8601 string: a timestamp, dlt's
`iso_timestamp` detection), and it keeps that type for the rest of the load. A value of
another type is coerced to it where dlt coerces (`"12"` into a bigint column), else it goes to a
variant column beside it (`value__v_text`), as dlt's normalizer does. dlt's own coercion
functions decide, so the two paths agree value for value.

Whole Arrow columns of the right type, or castable to it, stay in Arrow; only a column holding
values of another type goes value by value.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

import pyarrow as pa
from dlt.common.data_types import coerce_value, py_type_to_sc_type
from dlt.common.normalizers.naming import NamingConvention
from dlt.common.schema.utils import autodetect_sc_type
from dlt.common.time import normalize_timezone

ARROW_TYPES = {
    "text": pa.string(),
    "json": pa.string(),  # JSON text, typed JSON by the column hint
    "bigint": pa.int64(),
    "bool": pa.bool_(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "time": pa.time64("us"),
}
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)
# dlt's default type detections (a schema's `settings.detections`)
DETECTIONS: Sequence[Any] = ("iso_timestamp",)
# casts Arrow does exactly as dlt coerces: ISO-8601 text to timestamps, integers to doubles
CASTS = {("timestamp", pa.types.is_string), ("double", pa.types.is_integer)}


class UnsupportedValue(Exception):
    """A value dlt would type in a way the Arrow path does not (a decimal, say)."""


class ColumnTypes:
    """The type of every column of an endpoint's tables, learned in record order."""

    def __init__(self, known: dict[str, dict[str, str]], naming: NamingConvention,
                 detections: Sequence[Any] = DETECTIONS) -> None:
        self.known = {table: dict(columns) for table, columns in known.items()}
        self.naming = naming
        self.detections = detections

    def of(self, table: str) -> dict[str, str]:
        return self.known.setdefault(table, {})

    # --- whole Arrow columns --------------------------------------------------------------

    def arrow_column(self, table: str, name: str, array: pa.Array) -> list[tuple[str, pa.Array]]:
        """`name` typed: the column, plus variant columns for values that do not fit."""
        if array.null_count == len(array):  # as dlt: no column until a value arrives
            known = self.of(table).get(name)
            return [(name, pa.nulls(len(array), ARROW_TYPES[known]))] if known in ARROW_TYPES else []
        known = self.of(table).get(name)
        if known is None:
            known = self.first_type(array)
            if known is None:  # nested values: value by value decides
                return self.python_column(table, name, array.to_pylist())
            self.of(table)[name] = known
        target = ARROW_TYPES.get(known)
        if target is not None and array.type == target:
            return [(name, array)]
        if target is not None and any(known == to and accepts(array.type) for to, accepts in CASTS):
            try:
                return [(name, array.cast(target))]
            except ARROW_ERRORS:
                pass
        return self.python_column(table, name, array.to_pylist())

    def first_type(self, array: pa.Array) -> Optional[str]:
        """dlt's type for a new column: its first value's (one Arrow type: the column's)."""
        if pa.types.is_string(array.type):
            first = array.drop_null()[0].as_py()
            return autodetect_sc_type(self.detections, str, first) or "text"
        for data_type, is_type in (("bigint", pa.types.is_integer), ("double", pa.types.is_floating),
                                   ("bool", pa.types.is_boolean)):
            if is_type(array.type):
                return data_type
        return None

    # --- value by value ---------------------------------------------------------------------

    def python_column(self, table: str, name: str, values: list[Any]) -> list[tuple[str, pa.Array]]:
        """`name` from Python values, each coerced as dlt's normalizer coerces it."""
        columns: dict[str, list[Any]] = {}
        for row, value in enumerate(values):
            if value is None:
                continue
            column, coerced = self.coerce(table, name, value)
            columns.setdefault(column, [None] * len(values))[row] = coerced
        known = self.of(table)
        if name not in columns and name in known:
            columns = {name: [None] * len(values), **columns}
        out = []
        for column, column_values in columns.items():
            if known[column] not in ARROW_TYPES:
                raise UnsupportedValue(f"`{table}.{column}` would be a {known[column]} column")
            out.append((column, pa.array(column_values, ARROW_TYPES[known[column]])))
        return out

    def coerce(self, table: str, column: str, value: Any, variant: bool = False) -> tuple[str, Any]:
        """(column, value) of one non-null value: dlt's `_coerce_non_null_value`."""
        known = self.of(table)
        py_type = py_type_to_sc_type(type(value))
        data_type = known.get(column) or autodetect_sc_type(self.detections, type(value), value) or py_type
        if data_type == "json" and py_type == "text":
            return column, value  # a declared JSON column, already JSON text (pages.py)
        try:
            coerced = coerce_value(data_type, py_type, value)
        except (ValueError, SyntaxError):
            if variant:
                raise UnsupportedValue(f"`{table}.{column}` cannot take {value!r}") from None
            return self.coerce(table, self.naming.shorten_fragments(column, f"v_{py_type}"), value, True)
        known.setdefault(column, data_type)
        if data_type == "timestamp":
            coerced = normalize_timezone(coerced, True)
        return column, coerced
