"""Progress of a load, on the run's log: a line per endpoint as its pages land.

Told of every page the source reads (a `rest_api` response action, the Arrow endpoints'
page callback). It logs an endpoint's first page, then at
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
    """Pages and rows per endpoint (thread-safe: endpoints are fetched concurrently): a
    `rest_api` response action after `check_response`, which rejects bad pages, and the page
    callback of the Arrow endpoints' reader (`pages.PageReader`)."""

    def __init__(self, logger: Optional[logging.Logger] = None, every_seconds: float = EVERY_SECONDS) -> None:
        self.logger = logger or logging.getLogger(__name__)
        self.every_seconds = every_seconds
        self._endpoints: dict[str, _Endpoint] = {}
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict) -> "PageProgress":
        return self  # dlt's rest_api copies its config: every endpoint must count in this one

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        """As a `rest_api` response action: counts the page in its answer."""
        body = response.json() if response.ok else None
        if isinstance(body, dict) and isinstance(body.get("data"), list):
            self.page_read(endpoint_of(response), body.get("pagination"), len(body["data"]))
        return response

    def page_read(self, endpoint: str, pagination: Any, rows: int) -> None:
        """Counts a page of `endpoint` with `rows` records; logs when a line is due."""
        pagination = pagination if isinstance(pagination, dict) else {}
        page, pages = pagination.get("page"), pagination.get("pages")
        last = pagination.get("next") is None
        now = time.monotonic()
        with self._lock:
            seen = self._endpoints.setdefault(endpoint, _Endpoint())
            seen.pages += 1
            seen.rows += rows
            if not (last or seen.pages == 1 or now - seen.logged_at >= self.every_seconds):
                return
            seen.logged_at = now
            line = progress_line(endpoint, seen.pages, seen.rows, page, pages, last)
        self.logger.info(line)


def progress_line(endpoint: str, fetched: int, rows: int, page: Any, pages: Any, last: bool) -> str:
    """e.g. `GET /v1/incidents: page 40 of 500, 8,000 rows so far, 460 requests to go`."""
    if last:
        return f"GET {endpoint}: {rows:,} rows in {fetched:,} page{'s' if fetched != 1 else ''}, done"
    known = isinstance(page, int) and isinstance(pages, int)
    where = f"page {page} of {pages}" if known else f"page {fetched}"
    to_go = f", {pages - page:,} request{'s' if pages - page != 1 else ''} to go" if known else ""
    return f"GET {endpoint}: {where}, {rows:,} rows so far{to_go}"
