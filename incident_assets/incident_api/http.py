"""How the project talks HTTP to the incident API, stated once for every endpoint.

dlt does the requests, pagination and retries; this module only adds what the API needs
beyond dlt's defaults:
- `next_page`: `pagination.next` sent back as `page`, refusing a cursor that repeats, goes
  back, or runs past the last page (a server bug would otherwise loop forever); used by
  `PageCursorPaginator` (dlt's `rest_api`) and `pages.PageReader` (the Arrow endpoints).
- `check_status` / `check_body` (together `check_response`, a response hook): a bad answer
  becomes one clear error naming the endpoint and the status (401, 403, non-JSON, one object
  instead of a `data` list) instead of a traceback or, worse, a silently empty table.
- `fails_every_endpoint`: which of those errors no endpoint escapes (bad token, the account's
  rate limit, an unreachable host); the others belong to one endpoint, which the ingestion
  asset leaves out (`incident_assets/defs/incident_api/assets.py`).
- `make_session`: dlt's retrying session with the statuses and errors worth a retry, paced by
  a `RequestPacer` (`pacing.py`).
- `make_client`: base URL, bearer token, page-cursor paginator and that session together, the
  one way the source, its Arrow resources and the sensors reach the API.
- `read_ahead`: speed (pages read while earlier ones are loaded).
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Iterator, Optional, TypeVar
from urllib.parse import urljoin, urlsplit

import requests
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request

from incident_assets.errors import UserFacingError
from incident_assets.incident_api.pacing import RequestPacer
from incident_assets.incident_api.pacing import make_session as make_paced_session
from incident_assets.settings import API_TOKEN_ENV, BASE_URL_ENV

RETRY_STATUSES = (429, 500, 502, 503, 504)
T = TypeVar("T")
NO_API_TOKEN = f"no API token configured: set {API_TOKEN_ENV} (or API_TOKEN, or api_token in .dlt/secrets.toml)"


class IncidentApiError(UserFacingError):
    """A failure talking to the incident API, with a message safe to show (no token)."""


class IncidentApiHTTPError(IncidentApiError, requests.HTTPError):
    """An HTTP error status. Subclasses HTTPError so dlt's retry sees the status code."""


class MalformedBodyError(IncidentApiError, requests.exceptions.ContentDecodingError):
    """A body that is not JSON (truncated or HTML). Retried: truncation is usually transient."""


class IncidentApiConfigError(IncidentApiError):
    """The incident API cannot be reached as configured; the message names the key to set."""


class UnexpectedBodyError(IncidentApiError):
    """JSON of the wrong shape for a list endpoint (no `data` list)."""


class PaginationError(IncidentApiError):
    """A `pagination.next` that would make the client loop or run away."""


# what an endpoint's answer can go wrong with (HTTP statuses, transport, body, pagination)
ANSWER_ERRORS = (requests.RequestException, UnexpectedBodyError, PaginationError)

# a hard cap on pages when the server does not say how many there are
MAX_PAGES_UNKNOWN = 100_000
# ... and how far past its own `pages` a server may lead the client (lists grow while read)
MAX_PAGES_FACTOR = 10


def endpoint_of(response: requests.Response) -> str:
    return urlsplit(response.request.url).path if response.request is not None else "?"


def resource_of(endpoint: str) -> str:
    """`/v1/ticketing/tickets` -> `ticketing/tickets`: the resource a path lists."""
    return endpoint.split("/v1/", 1)[-1].strip("/") or endpoint


def check_response(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """requests response hook: fail with a clear message on anything but a `data` list."""
    check_status(response)
    try:
        body = response.json()
    except ValueError:
        raise not_json(response, response.content) from None
    check_body(endpoint_of(response), body)
    return response


def check_status(response: requests.Response) -> None:
    """An HTTP error status as one sentence naming the endpoint and the status."""
    if response.status_code >= 400:
        endpoint = endpoint_of(response)
        raise IncidentApiHTTPError(
            f"incident API answered HTTP {response.status_code} {response.reason} "
            f"for GET {endpoint}{_status_hint(response.status_code, endpoint)}",
            response=response,
        )


def not_json(response: requests.Response, body: bytes) -> MalformedBodyError:
    kind = response.headers.get("Content-Type", "no content type")
    return MalformedBodyError(
        f"incident API endpoint {endpoint_of(response)} answered a body that is not JSON "
        f"({kind}, {len(body)} bytes: truncated or not an API answer)",
        response=response,
    )


def check_body(endpoint: str, body: Any) -> None:
    """A list answer must be an object with a `data` list."""
    if not isinstance(body, dict) or "data" not in body:
        raise UnexpectedBodyError(f"incident API endpoint {endpoint} {_shape_of(body)}")
    if not isinstance(body["data"], list):
        raise UnexpectedBodyError(
            f"incident API endpoint {endpoint} answered `data` as "
            f"{type(body['data']).__name__}, expected a list of records"
        )


def _status_hint(status: int, endpoint: str) -> str:
    if status == 401:
        return f" (check the API token: {API_TOKEN_ENV})"
    if status == 403:
        return (
            f": the API token, or the account's plan, may not read `{resource_of(endpoint)}` "
            "(grant it, or leave this endpoint out)"
        )
    if status == 404:
        return f" (no such list here: check {BASE_URL_ENV}, which must end in /v1, or whether this API offers it)"
    return ""


def _shape_of(body: Any) -> str:
    """What a list answer without a `data` field looks like, and whom to blame for it."""
    if isinstance(body, dict) and "pagination" in body:
        return "answered JSON without a `data` field next to its `pagination`"
    if isinstance(body, dict) and ({"id", "slug"} & body.keys()):
        keys = ", ".join(sorted(body)[:6])
        return (
            f"answered JSON without a `data` field: one object ({keys}) instead of a paginated "
            "list (`data` + `pagination`)"
        )
    if isinstance(body, list):
        return "answered a bare JSON list instead of a paginated list (`data` + `pagination`)"
    return f"answered JSON without a `data` field (is {BASE_URL_ENV} the API's /v1 root?)"


class PageCursorPaginator(BasePaginator):
    """FireHydrant pagination: the next page number is `pagination.next`, sent as `page`.

    It cannot run away: it tracks the page it asked for and stops with a PaginationError
    naming the endpoint and what the server sent when `next` is not a positive integer, does
    not exceed the page asked for (a repeat, a step back, or a server that ignores `page`),
    goes past `pagination.last` / `pages`, or past a hard cap of pages.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asked = 1
        self.fetched = 0
        self.next_page: Optional[int] = None

    def init_request(self, request: Request) -> None:
        page = (request.params or {}).get("page", 1)
        self.asked = page if isinstance(page, int) and not isinstance(page, bool) else 1
        self.fetched = 0

    def update_state(self, response: requests.Response, data: Optional[list[Any]] = None) -> None:
        self.fetched += 1
        body = response.json()
        pagination = body.get("pagination") if isinstance(body, dict) else None
        self.next_page = next_page(endpoint_of(response), pagination, self.asked, self.fetched)
        if self.next_page is None:
            self._has_next_page = False

    def update_request(self, request: Request) -> None:
        if self._has_next_page and self.next_page is not None:
            request.params = {**(request.params or {}), "page": self.next_page}
            self.asked = self.next_page


def next_page(endpoint: str, pagination: Any, asked: int, fetched: int) -> Optional[int]:
    """The page after page `asked` (the `fetched`-th read), from its `pagination`; None at the
    end; a PaginationError naming the endpoint and what the server sent when following `next`
    would loop or run away (see `runaway_reason`)."""
    pagination = pagination if isinstance(pagination, dict) else {}
    nxt = pagination.get("next")
    if nxt is None:
        return None
    problem = runaway_reason(nxt, asked, fetched, pagination)
    if problem:
        shown = {k: pagination.get(k) for k in ("page", "next", "last", "pages") if k in pagination}
        raise PaginationError(
            f"incident API endpoint {endpoint} answered page {asked} with "
            f"pagination {json.dumps(shown)}: {problem}, stopping"
        )
    return nxt


def _whole(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def runaway_reason(nxt: Any, asked: int, fetched: int, pagination: dict[str, Any]) -> Optional[str]:
    """Why following `next` after `fetched` pages (the last one asked as `asked`) is unsafe."""
    if _whole(nxt) is None:
        return "`next` is not an integer"
    if nxt < 1:
        return "`next` is not a page number (pages start at 1)"
    if nxt <= asked:
        return (
            f"`next` does not come after the page asked for ({asked}): the cursor repeats or "
            "goes back (does the server ignore `page`?)"
        )
    last = next((v for v in (_whole(pagination.get("last")), _whole(pagination.get("pages"))) if v), None)
    if last is not None and nxt > last:
        return f"`next` goes past the last page ({last})"
    cap = MAX_PAGES_FACTOR * last if last else MAX_PAGES_UNKNOWN
    if fetched >= cap:
        return f"{fetched} pages read, the most this client follows here is {cap}"
    return None


def read_ahead(items: Iterator[T], depth: int) -> Iterator[T]:
    """`items`, made up to `depth` ahead in a thread of their own while the caller works on the
    ones before. Errors surface in order; closing the iterator early stops the thread after the
    item it is making."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="incident-api-read-ahead")
    try:
        # one worker: the submitted `next` calls run one after another, in order
        upcoming = deque(pool.submit(next, items, None) for _ in range(depth))
        while (item := upcoming.popleft().result()) is not None:
            upcoming.append(pool.submit(next, items, None))
            yield item
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


@dataclass(frozen=True)
class ApiClient:
    """How requests reach the API: base URL (ending in `/`), bearer token and session."""

    base_url: str
    auth: BearerTokenAuth
    session: requests.Session

    def rest_api_client(self) -> dict[str, Any]:
        """The `client` section of a dlt `rest_api` config."""
        return {"base_url": self.base_url, "auth": self.auth, "paginator": PageCursorPaginator(),
                "session": self.session}

    def get(self, path: str, params: dict[str, Any], hooks: Optional[dict[str, Any]] = None,
            stream: bool = False) -> requests.Response:
        """One authenticated GET of `path` under the base URL (retried and paced by the session),
        `hooks` and `stream` as requests takes them."""
        return self.session.get(urljoin(self.base_url, path.lstrip("/")), params=params, auth=self.auth,
                                hooks=hooks or {}, stream=stream)


def make_client(
    base_url: str, api_token: Optional[str], *, max_retries: int, backoff_factor: float, timeout: float,
    pacer: Optional[RequestPacer] = None,
) -> ApiClient:
    """The API's client (see `make_session` for the session); no token is one sentence naming the key."""
    if not api_token:
        raise IncidentApiConfigError(NO_API_TOKEN)
    session = make_session(max_retries=max_retries, backoff_factor=backoff_factor, timeout=timeout, pacer=pacer)
    return ApiClient(base_url.rstrip("/") + "/", BearerTokenAuth(api_token), session)


def causes(error: BaseException) -> list[BaseException]:
    """`error` and what caused it, outermost first."""
    chain: list[BaseException] = []
    cursor: Optional[BaseException] = error
    while cursor is not None and cursor not in chain:
        chain.append(cursor)
        cursor = cursor.__cause__ or cursor.__context__
    return chain


def http_status(error: BaseException) -> Optional[int]:
    """The HTTP status behind `error`, if an answer of the API caused it."""
    for cause in causes(error):
        if isinstance(cause, requests.HTTPError) and cause.response is not None:
            return cause.response.status_code
    return None


def fails_every_endpoint(error: BaseException) -> bool:
    """Errors no endpoint escapes: a bad token (401), the account's rate limit (429) past the
    retries, an unreachable host. Anything else may belong to the one endpoint that met it."""
    if http_status(error) in (401, 429):
        return True
    return any(isinstance(c, requests.ConnectionError) for c in causes(error))


def describe_failure(error: BaseException) -> str:
    """One sentence for the user: the deepest cause that says what to fix, never the token."""
    chain = causes(error)
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
