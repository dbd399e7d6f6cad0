"""The pages of an Arrow endpoint (columnar.py), step by step: fetch, read, follow.

- fetch: one GET through the source's session (dlt's retrying, paced session, `http.py`) with
  its bearer token;
- read: the status and the body checked as every answer is (`http.check_status`,
  `http.check_body`, their clear errors), the bytes read in large pieces (`body_of`) and parsed
  once with orjson, and each declared JSON column turned into its JSON text right away: a
  free-form object (labels, custom fields) whose keys and value types differ from record to
  record is then one string column to Arrow, exact whatever its shape;
- follow: `pagination.next` sent back as `page`, with the guards of the `rest_api` paginator
  (`http.next_page`).

A body that is not JSON (a truncated answer) is fetched again, with the session's own retry
policy: the session retries failed sends, the body is judged only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import orjson
import requests
from tenacity import Retrying, retry_if_exception_type

from incident_assets.incident_api.http import (
    ApiClient, MalformedBodyError, check_body, check_status, endpoint_of, next_page, not_json)

# a path to a declared JSON column: its table's list fields, then the column's keys
JsonPath = tuple[tuple[str, ...], tuple[str, ...]]
# requests reads a body 10 KB at a time, and each read gives up the GIL and must win it back
# from the thread turning pages into Arrow tables; 1 MB pieces take about half the CPU time
BODY_PIECE_BYTES = 1 << 20


@dataclass(frozen=True)
class Page:
    """One answer of a list endpoint, read: its records and its `pagination`."""

    endpoint: str  # the path asked, e.g. /v1/incidents
    records: list[Any]
    pagination: dict[str, Any]

    def body(self) -> dict[str, Any]:
        """The page as the API's JSON body."""
        return {"data": self.records, "pagination": self.pagination}


def parse_page(content: bytes) -> Any:
    """The one parse of a page's bytes into Python (a ValueError if not JSON)."""
    return orjson.loads(content)


def body_of(response: requests.Response) -> bytes:
    """The body of an answer (asked with `stream=True`), read in 1 MB pieces. A body that breaks
    off is a MalformedBodyError, fetched again like one that is not JSON."""
    try:
        return b"".join(response.iter_content(BODY_PIECE_BYTES))
    except (requests.exceptions.ChunkedEncodingError, requests.ConnectionError) as e:
        raise MalformedBodyError(
            f"incident API endpoint {endpoint_of(response)} answered a body that broke off: {type(e).__name__}",
            response=response) from None


def read_page(response: requests.Response, json_paths: list[JsonPath] = ()) -> Page:
    """A checked, parsed answer; declared JSON columns as JSON text."""
    check_status(response)
    content = body_of(response)
    try:
        body = parse_page(content)
    except ValueError:
        raise not_json(response, content) from None
    endpoint = endpoint_of(response)
    check_body(endpoint, body)
    records = body["data"]
    objects = [r for r in records if type(r) is dict]  # a record that is not an object has no columns
    for tables, keys in json_paths:
        as_json_text(objects, tables, keys)
    pagination = body.get("pagination")
    return Page(endpoint, records, pagination if isinstance(pagination, dict) else {})


class PageReader:
    """Reads an endpoint's list, page after page, through `client`; `on_page` sees each page
    (the run's progress lines)."""

    def __init__(self, client: ApiClient, json_paths: list[JsonPath] = (),
                 on_page: Optional[Callable[[Page], None]] = None) -> None:
        self.client = client
        self.json_paths = list(json_paths)
        self.on_page = on_page
        # the session's retry policy (attempts, waits, the retry log line) for bodies that are not JSON
        self.retrying: Retrying = client.session.send.retry.copy(  # type: ignore[attr-defined]
            retry=retry_if_exception_type(MalformedBodyError))

    def fetch(self, path: str, params: dict[str, Any]) -> Page:
        """One page, read (fetched again while its body is not JSON)."""
        return self.retrying(lambda: read_page(self.client.get(path, params, stream=True), self.json_paths))

    def pages(self, path: str, params: dict[str, Any]) -> Iterator[Page]:
        """Every page of the list at `path` asked with `params`, from `page` (default 1) on."""
        query = dict(params)
        asked, fetched = int(query.get("page", 1)), 0
        while True:
            page = self.fetch(path, query)
            fetched += 1
            if self.on_page is not None:
                self.on_page(page)
            yield page
            nxt = next_page(page.endpoint, page.pagination, asked, fetched)
            if nxt is None:
                return
            query["page"] = asked = nxt


def json_paths(root: str, json_columns: dict[str, set[str]]) -> list[JsonPath]:
    """(list fields from the root to the table, keys to the column) of every declared JSON column.

    Declared names are the API's own keys (snake_case), so they split back into keys."""
    return sorted(
        (tuple(table.split("__")[1:]), tuple(column.split("__")))
        for table, columns in json_columns.items() if table == root or table.startswith(f"{root}__")
        for column in columns
    )


def as_json_text(objects: list[dict[str, Any]], tables: tuple[str, ...], keys: tuple[str, ...]) -> None:
    """The JSON column at `keys` of every row of the table at `tables` under a page's records
    (`objects`: those that are JSON objects), as JSON text (null stays null: as dlt, no value).
    A step at a time over all the page's rows."""
    rows = objects
    for step in tables:  # down the lists to the table's rows
        rows = [item for row in rows if type(items := row.get(step)) is list for item in items if type(item) is dict]
    for key in keys[:-1]:  # into the objects holding the column
        rows = [value for row in rows if type(value := row.get(key)) is dict]
    last = keys[-1]
    for row in rows:
        value = row.get(last)
        if value is not None:
            row[last] = orjson.dumps(value).decode()
