"""How the project talks HTTP to the incident API, stated once for every endpoint.

dlt does the requests, pagination and retries; this module only adds what the API needs
beyond dlt's defaults:
- `PageCursorPaginator`: `pagination.next` sent back as `page`, refusing a cursor that does
  not advance (a server bug would otherwise loop forever).
- `check_response`: a response hook that turns a bad answer into one clear error naming the
  endpoint and the status (401, non-JSON, no `data` list) instead of a traceback or, worse,
  a silently empty table.
- `RateLimiter` + `make_session`: a client-side throttle under the API's 50 requests / 10 s,
  inside dlt's retrying session so that retries are throttled too.
- `ParsedOnceResponse` and `read_ahead`: speed (each page parsed once; the next page fetched
  while this one is processed).
"""

from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Optional, TypeVar
from urllib.parse import urlsplit

import orjson
import requests
from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from incident_assets.errors import UserFacingError
from incident_assets.settings import API_TOKEN_ENV, BASE_URL_ENV

RETRY_STATUSES = (429, 500, 502, 503, 504)
T = TypeVar("T")


class IncidentApiError(UserFacingError):
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


class RateLimiter:
    """Allows at most `requests` sends in any sliding window of `seconds` (thread-safe)."""

    def __init__(self, requests: int, seconds: float) -> None:
        if requests < 1 or seconds <= 0:
            raise ValueError("rate limit needs requests >= 1 and seconds > 0")
        # the server counts arrivals, not sends: a little slack keeps network jitter from
        # squeezing one request too many into its window
        self.requests, self.seconds = requests, seconds * 1.05
        self._sent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.seconds:
                    self._sent.popleft()
                if len(self._sent) < self.requests:
                    self._sent.append(now)
                    return
                delay = self.seconds - (now - self._sent[0])
            time.sleep(delay)


class ParsedOnceResponse(requests.Response):
    """A response whose JSON body is parsed once, with orjson.

    The response check, dlt's data selector and both paginator steps each call `.json()`:
    four parses of every page with requests' parser were 11 s of a 29 s extraction
    (25,000 incidents, cProfile).
    """

    _body: Any = None

    def json(self, **kwargs: Any) -> Any:
        if self._body is None:
            self._body = orjson.loads(self.content)  # JSONDecodeError is a ValueError
        return self._body


class _ThrottledAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, limiter: Optional[RateLimiter], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.limiter is not None:
            self.limiter.wait()
        return super().send(request, **kwargs)

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = super().build_response(req, resp)
        response.__class__ = ParsedOnceResponse
        return response


def make_session(
    *,
    max_retries: int,
    backoff_factor: float,
    timeout: float,
    limiter: Optional[RateLimiter],
) -> requests.Session:
    """dlt's retrying session (429/5xx, `Retry-After` honoured) with the throttle mounted."""
    client = Client(
        request_timeout=timeout,
        raise_for_status=False,  # check_response raises, with a clearer message
        status_codes=RETRY_STATUSES,
        exceptions=(
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            MalformedBodyError,
        ),
        request_max_attempts=max_retries + 1,
        request_backoff_factor=backoff_factor,
        respect_retry_after_header=True,
    )
    session = client.session
    adapter = _ThrottledAdapter(limiter, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def describe_failure(error: BaseException) -> str:
    """One sentence for the user: the deepest cause that says what to fix, never the token."""
    chain = []
    cursor: Optional[BaseException] = error
    while cursor is not None and cursor not in chain:
        chain.append(cursor)
        cursor = cursor.__cause__ or cursor.__context__
    for cause in chain:
        if isinstance(cause, UserFacingError):
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
