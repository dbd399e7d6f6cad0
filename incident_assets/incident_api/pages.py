"""A page of an Arrow endpoint (columnar.py), parsed once: its bytes to Python records, one
`orjson.loads` per page, in the response hook, before dlt's paginator sees the page.

The hook keeps only `pagination` in the body dlt reads (so dlt's data selector yields no
records and nothing parses the page again), and the records on the response
(`response.page_records`). Declared JSON columns are turned into their JSON text right there:
a free-form object (labels, custom fields) whose keys and value types differ from record to
record is then one string column to Arrow, exact whatever its shape.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import orjson
import requests

# a path to a declared JSON column: its table's list fields, then the column's keys
JsonPath = tuple[tuple[str, ...], tuple[str, ...]]


def parse_page(content: bytes) -> Any:
    """The one parse of a page's bytes into Python (a ValueError if not JSON)."""
    return orjson.loads(content)


def json_paths(root: str, json_columns: dict[str, set[str]]) -> list[JsonPath]:
    """(list fields from the root to the table, keys to the column) of every declared JSON column.

    Declared names are the API's own keys (snake_case), so they split back into keys."""
    return sorted(
        (tuple(table.split("__")[1:]), tuple(column.split("__")))
        for table, columns in json_columns.items() if table == root or table.startswith(f"{root}__")
        for column in columns
    )


class PageHook:
    """requests response hook of an Arrow endpoint, before `check_response`: the page's records
    parsed once into `response.page_records`, declared JSON columns as JSON text.

    A body that is not a JSON object with a `data` list is left alone: `check_response` judges it,
    with its clear errors."""

    def __init__(self, paths: list[JsonPath]) -> None:
        self.paths = paths

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.status_code >= 400:
            return response
        try:
            body = parse_page(response.content)
        except ValueError:
            return response
        response._body = body  # type: ignore[attr-defined]  # parsed: nothing parses it again
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return response
        records = body["data"]
        for record in records:
            if isinstance(record, dict):
                for tables, keys in self.paths:
                    as_json_text(record, tables, keys)
        response._body = {"data": [], "pagination": body.get("pagination")}  # type: ignore[attr-defined]
        response.page_records = records  # type: ignore[attr-defined]
        return response


def as_json_text(value: Any, tables: tuple[str, ...], keys: tuple[str, ...]) -> None:
    """The JSON column at `keys` of every row of the table at `tables` under `value`, as JSON
    text (null stays null: as dlt, no value)."""
    for row in rows_at(value, tables):
        for key in keys[:-1]:
            row = row.get(key) if isinstance(row, dict) else None
        if isinstance(row, dict) and row.get(keys[-1]) is not None:
            row[keys[-1]] = orjson.dumps(row[keys[-1]]).decode()


def rows_at(value: Any, tables: Iterable[str]) -> Iterator[dict[str, Any]]:
    tables = tuple(tables)
    if not tables:
        if isinstance(value, dict):
            yield value
        return
    items = value.get(tables[0]) if isinstance(value, dict) else None
    for item in items if isinstance(items, list) else ():
        yield from rows_at(item, tables[1:])


def page_records(page: Any, paths: list[JsonPath]) -> list[Any]:
    """The records of a page dlt's paginator yielded: parsed by `PageHook`, else the page
    itself (its JSON columns turned into text here)."""
    records = getattr(getattr(page, "response", None), "page_records", None)
    if records is not None:
        return records
    records = [dict(r) if isinstance(r, dict) else r for r in page]
    for record in records:
        for tables, keys in paths:
            as_json_text(record, tables, keys)
    return records
