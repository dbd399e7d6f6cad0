"""Progress of a load, on the run's log: a line per endpoint as its pages land.

A response hook on every page the source fetches. It logs an endpoint's first page, then at
most one line per `every_seconds`, and its last page; where the API tells how many pages there
are (`pagination.pages`), the line says how many requests remain. Through Python's logging;
the ingestion asset forwards it to the run's log (`defs/incident_api/source_logs.py`), so the
lines reach the terminal of a headless run and the run's event log in the UI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional

import requests

from incident_assets.incident_api.http import endpoint_of

EVERY_SECONDS = 5.0


@dataclass
class _Endpoint:
    pages: int = 0
    rows: int = 0
    logged_at: float = float("-inf")


class PageProgress:
    """requests response hook counting pages and rows per endpoint (thread-safe: endpoints
    are fetched concurrently). Install after `check_response`, which rejects bad pages."""

    def __init__(self, logger: Optional[logging.Logger] = None, every_seconds: float = EVERY_SECONDS) -> None:
        self.logger = logger or logging.getLogger(__name__)
        self.every_seconds = every_seconds
        self._endpoints: dict[str, _Endpoint] = {}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict) -> "PageProgress":
        return self  # dlt's rest_api copies its config: every endpoint must count in this one

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        body = response.json() if response.ok else None  # parsed once already (see pacing.py)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return response
        pagination = body.get("pagination") or {}
        page, pages = pagination.get("page"), pagination.get("pages")
        last = pagination.get("next") is None
        endpoint = endpoint_of(response)
        now = time.monotonic()
        with self._lock:
            seen = self._endpoints.setdefault(endpoint, _Endpoint())
            seen.pages += 1
            # a page of an Arrow endpoint keeps its records in `page_records` (pages.py), not in `data`
            records = getattr(response, "page_records", None)
            seen.rows += len(records) if records is not None else len(body["data"])
            if not (last or seen.pages == 1 or now - seen.logged_at >= self.every_seconds):
                return response
            seen.logged_at = now
            line = progress_line(endpoint, seen.pages, seen.rows, page, pages, last)
        self.logger.info(line)
        return response


def progress_line(endpoint: str, fetched: int, rows: int, page: Any, pages: Any, last: bool) -> str:
    """e.g. `GET /v1/incidents: page 40 of 500, 8,000 rows so far, 460 requests to go`."""
    if last:
        return f"GET {endpoint}: {rows:,} rows in {fetched:,} page{'s' if fetched != 1 else ''}, done"
    known = isinstance(page, int) and isinstance(pages, int)
    where = f"page {page} of {pages}" if known else f"page {fetched}"
    to_go = f", {pages - page:,} request{'s' if pages - page != 1 else ''} to go" if known else ""
    return f"GET {endpoint}: {where}, {rows:,} rows so far{to_go}"
