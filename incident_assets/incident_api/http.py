"""How the project talks HTTP to the incident API, stated once for every endpoint.

dlt does the requests, pagination and retries; this module only adds what the API needs
beyond dlt's defaults:
- `PageCursorPaginator`: `pagination.next` sent back as `page`, refusing a cursor that does
  not advance (a server bug would otherwise loop forever).
- `check_response`: a response hook that turns a bad answer into one clear error naming the
  endpoint and the status (401, non-JSON, no `data` list) instead of a traceback or, worse,
  a silently empty table.
- `make_session`: dlt's retrying session with the statuses and errors worth a retry, paced by
  a `RequestPacer` (`pacing.py`), each page parsed once.
- `read_ahead`: speed (the next page fetched while this one is processed).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Optional, TypeVar
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from incident_assets.incident_api.pacing import RequestPacer
from incident_assets.incident_api.pacing import make_session as make_paced_session
from incident_assets.settings import API_TOKEN_ENV, BASE_URL_ENV

RETRY_STATUSES = (429, 500, 502, 503, 504)
T = TypeVar("T")


class IncidentApiError(Exception):
    """A failure talking to the incident API, with a message safe to show (no token)."""


class IncidentApiHTTPError(IncidentApiError, requests.HTTPError):
    """An HTTP error status. Subclasses HTTPError so dlt's retry sees the status code."""


class MalformedBodyError(IncidentApiError, requests.exceptions.ContentDecodingError):
    """A body that is not JSON (truncated or HTML). Retried: truncation is usually transient."""


class PaginationLoopError(IncidentApiError):
    pass


def endpoint_of(response: requests.Response) -> str:
    return urlsplit(response.request.url).path if response.request is not None else "?"


def check_response(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """requests response hook: fail with a clear message on anything but a `data` list."""
    endpoint = endpoint_of(response)
    if response.status_code >= 400:
        hint = ""
        if response.status_code == 401:
            hint = f" (check the API token: {API_TOKEN_ENV})"
        elif response.status_code == 404:
            hint = f" (check {BASE_URL_ENV}, which must end in /v1)"
        raise IncidentApiHTTPError(
            f"incident API answered HTTP {response.status_code} {response.reason} "
            f"for GET {endpoint}{hint}",
            response=response,
        )
    try:
        body = response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise MalformedBodyError(
            f"incident API endpoint {endpoint} answered a body that is not JSON "
            f"({kind}, {len(response.content)} bytes: truncated or not an API answer)",
            response=response,
        ) from None
    if not isinstance(body, dict) or "data" not in body:
        raise IncidentApiError(
            f"incident API endpoint {endpoint} answered JSON without a `data` field "
            f"(is {BASE_URL_ENV} the API's /v1 root?)"
        )
    if not isinstance(body["data"], list):
        raise IncidentApiError(
            f"incident API endpoint {endpoint} answered `data` as "
            f"{type(body['data']).__name__}, expected a list of records"
        )
    return response


class PageCursorPaginator(JSONResponseCursorPaginator):
    """FireHydrant pagination: the next page number is `pagination.next`, sent as `page`."""

    def __init__(self) -> None:
        super().__init__(cursor_path="pagination.next", cursor_param="page")

    def update_state(self, response: requests.Response, data: Optional[list[Any]] = None) -> None:
        super().update_state(response, data)
        if self._next_reference is None:
            return
        page = (response.json().get("pagination") or {}).get("page") or 1
        if int(self._next_reference) <= int(page):
            raise PaginationLoopError(
                f"incident API endpoint {endpoint_of(response)} returned pagination.next="
                f"{self._next_reference} on page {page}: the cursor does not advance, stopping"
            )


def read_ahead(pages: Iterator[T]) -> Iterator[T]:
    """`pages`, with the next one fetched in a thread while the caller works on this one, so
    waiting for the server overlaps turning a page into rows. Errors surface in order."""
    with ThreadPoolExecutor(1, thread_name_prefix="incident-api-read-ahead") as pool:
        upcoming = pool.submit(next, pages, None)
        while (page := upcoming.result()) is not None:
            upcoming = pool.submit(next, pages, None)
            yield page


def make_session(
    *, max_retries: int, backoff_factor: float, timeout: float, pacer: Optional[RequestPacer] = None
) -> requests.Session:
    """dlt's retrying session (429/5xx, refused or timed-out connections, truncated bodies),
    paced by `pacer` (none: full speed, no pacing)."""
    return make_paced_session(
        max_retries=max_retries,
        backoff_factor=backoff_factor,
        timeout=timeout,
        pacer=pacer or RequestPacer(),
        retry_statuses=RETRY_STATUSES,
        retry_exceptions=(
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            MalformedBodyError,
        ),
    )


def describe_failure(error: BaseException) -> str:
    """One sentence for the user: the deepest cause that says what to fix, never the token."""
    chain = []
    cursor: Optional[BaseException] = error
    while cursor is not None and cursor not in chain:
        chain.append(cursor)
        cursor = cursor.__cause__ or cursor.__context__
    for cause in chain:
        if isinstance(cause, IncidentApiError):
            return str(cause)
    for cause in chain:
        if isinstance(cause, (requests.ConnectionError, requests.Timeout)):
            url = cause.request.url if cause.request is not None else ""
            root = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" if url else "the API"
            what = "timed out" if isinstance(cause, requests.Timeout) else "refused or unreachable"
            return (
                f"cannot reach the incident API at {root} ({what}): "
                f"check {BASE_URL_ENV}"
            )
    step = getattr(error, "step", "load")
    return f"incident API ingestion failed in the {step} step: {type(chain[-1]).__name__}: {chain[-1]}"
