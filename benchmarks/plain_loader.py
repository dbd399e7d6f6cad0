"""The wire-speed yardstick: the least a loader of these endpoints can do.

The same pages as the project (per_page=200, every page of every endpoint), fetched one after
another over one keep-alive `http.client` connection, written to disk as the server sent them,
then loaded with DuckDB's `read_json` (one table per endpoint, nested fields left as DuckDB
structs and lists: no flattening, no child tables). Only page 1 of each endpoint is parsed, for
its page count.

    python -m benchmarks.plain_loader <base_url> <duckdb_path> [excluded,endpoints]
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import duckdb

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.simulator import DEFAULT_TOKEN

PER_PAGE = 200
SCHEMA = "incident_api"


def fetch_pages(conn: http.client.HTTPConnection, path: str, params: dict, folder: Path) -> int:
    """Every page of `path` into `folder/<n>.json`; returns the page count."""
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    page, pages = 1, 1
    while page <= pages:
        conn.request("GET", f"{path}?{urlencode({**params, 'per_page': PER_PAGE, 'page': page})}",
                     headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} page {page}: HTTP {response.status}")
        if page == 1:
            pages = json.loads(body)["pagination"]["pages"] or 1
        (folder / f"{page:06d}.json").write_bytes(body)
        page += 1
    return pages


def load(base_url: str, db_path: str, exclude: frozenset[str] = frozenset()) -> dict[str, int]:
    url = urlsplit(base_url.rstrip("/"))
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    rows: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="plain-loader-") as tmp, duckdb.connect(db_path) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        for endpoint in (e for e in ENDPOINTS if e.name not in exclude):
            folder = Path(tmp) / endpoint.name
            folder.mkdir()
            fetch_pages(conn, f"{url.path}/{endpoint.path}", dict(endpoint.params), folder)
            con.execute(
                f'create table {SCHEMA}."{endpoint.name}" as select unnest(data, recursive := false) '
                f"from read_json('{folder}/*.json', maximum_object_size = 1000000000)"
            )
            rows[endpoint.name] = con.execute(f'select count(*) from {SCHEMA}."{endpoint.name}"').fetchone()[0]
    conn.close()
    return rows


def main() -> None:
    from benchmarks.measure import emit

    started = time.perf_counter()
    exclude = frozenset(e for e in (sys.argv[3] if len(sys.argv) > 3 else "").split(",") if e)
    rows = load(sys.argv[1], sys.argv[2], exclude)
    emit({"seconds": time.perf_counter() - started, "rows": rows})


if __name__ == "__main__":
    main()
