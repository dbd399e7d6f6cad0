"""The dlt source for the incident API: `ENDPOINTS` (endpoints.py) turned into resources.

A factory in the shape of dlt's verified sources: its parameters are configuration, resolved
by dlt from `SOURCES__INCIDENT_API__*` environment variables or `.dlt/*.toml`. Call it once per
run: dagster-dlt mutates the source's schema while emitting metadata.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

import dlt
import requests
from dlt.common import logger
from dlt.common.configuration import known_sections, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.typing import TSecretStrValue
from dlt.extract import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.rest_api import rest_api_resources

from incident_assets.errors import redact
from incident_assets.incident_api.archived import ARCHIVED_PARAM, incident_lists
from incident_assets.incident_api.columnar import ArrowTables
from incident_assets.incident_api.endpoints import ENDPOINTS, SOURCE_NAME, Endpoint, resource_hints
from incident_assets.incident_api.http import (
    NO_API_TOKEN,
    IncidentApiConfigError,
    IncidentApiError,
    check_response,
    describe_failure,
    make_client,
    read_ahead,
)
from incident_assets.incident_api.pacing import RequestPacer
from incident_assets.incident_api.progress import PageProgress
from incident_assets.settings import API_TOKEN_ENV

# `make demo` / `make dev` start the bundled simulator here
SIMULATOR_BASE_URL = "http://127.0.0.1:8765/v1"
# the start of the first incremental window: before any real timestamp (records dated
# before 1970 exist, e.g. imported history), so the client drops nothing. Year 1000, not 1:
# dlt writes a lagged timestamp with strftime, which gives year 1 as "1", not "0001"
EPOCH = "1000-01-01T00:00:00.000Z"


class SkippedRecords:
    """Records the loader leaves out, counted per endpoint and reason: reported, never silent.

    Filled from dlt's extraction threads, read by the asset after the run."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter[str]] = defaultdict(Counter)
        self._lock = threading.Lock()

    def add(self, endpoint: str, reason: str, count: int = 1) -> None:
        with self._lock:
            self._counts[endpoint][reason] += count

    def of(self, endpoint: str) -> dict[str, int]:
        with self._lock:
            return dict(self._counts.get(endpoint, {}))

    def keep_keyed(self, endpoint: Endpoint) -> Callable[[Any], bool]:
        """A dlt filter: records without their primary key are counted and left out (the key
        is declared NOT NULL, so one would fail the whole load)."""
        reason = f"no `{endpoint.primary_key}`"

        def keep(record: Any) -> bool:
            if isinstance(record, dict) and record.get(endpoint.primary_key) is not None:
                return True
            self.add(endpoint.name, reason)
            return False

        return keep


def iso_utc(moment: datetime) -> str:
    """The API's timestamp format: ISO-8601 UTC with milliseconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


@dlt.source(name=SOURCE_NAME, section=SOURCE_NAME)
def incident_api_source(
    base_url: str = SIMULATOR_BASE_URL,
    api_token: TSecretStrValue = dlt.secrets.value,
    per_page: int = 200,
    rate_limit_requests: Optional[int] = None,
    rate_limit_seconds: Optional[float] = None,
    max_retries: int = 3,
    retry_backoff_factor: float = 2.0,
    request_timeout: float = 60.0,
    incident_cursor_overlap_minutes: float = 10.0,
    change_event_lookback_days: float = 7.0,
    full_refresh: bool = False,
    updated_after: Optional[str] = None,
    updated_before: Optional[str] = None,
    skipped: Optional[SkippedRecords] = None,
) -> list[DltResource]:
    """All endpoints of the incident API.

    `full_refresh` ignores the stored cursors; `updated_after`/`updated_before` bound a
    backfill window that leaves the cursors where they are. Records left out (no primary
    key, served twice) are counted in `skipped`. `rate_limit_requests` / `rate_limit_seconds`
    unset: full speed until the server answers 429, then its pace; set: that fixed pace;
    `rate_limit_requests=0`: no pacing. `change_event_lookback_days`: change events are read
    from this long before the stored cursor (their `starts_at`), so that one edited after it
    started (its end filled in, a service added) is read again; merged on `id`.
    """
    skipped = skipped if skipped is not None else SkippedRecords()
    client = make_client(
        base_url,
        api_token,
        max_retries=max_retries,
        backoff_factor=retry_backoff_factor,
        timeout=request_timeout,
        # one pacer for the run: every endpoint's thread holds to the same pace
        pacer=pacing_for(rate_limit_requests, rate_limit_seconds),
    )
    if not change_event_lookback_days >= 0:
        raise IncidentApiConfigError(
            f"SOURCES__INCIDENT_API__CHANGE_EVENT_LOOKBACK_DAYS={change_event_lookback_days!r}: "
            "must be a number of days, 0 or more"
        )
    scope = RunScope(full_refresh, updated_after, updated_before, timedelta(days=change_event_lookback_days))
    progress = PageProgress()  # a line per endpoint on the run's log as pages land
    config: dict[str, Any] = {
        "client": client.rest_api_client(),
        "resource_defaults": {
            "primary_key": "id",
            "write_disposition": "merge",
            "endpoint": {
                "data_selector": "data",
                "params": {"per_page": per_page},
                "response_actions": [check_response, progress],
            },
        },
        "resources": [_rest_api_resource(e, scope) for e in ENDPOINTS if not e.arrow],
    }
    resources = {r.name: r for r in rest_api_resources(config)}
    for endpoint in ENDPOINTS:
        if not endpoint.arrow:
            resources[endpoint.name].add_filter(skipped.keep_keyed(endpoint))
            fetch_ahead(resources[endpoint.name])
    overlap = timedelta(minutes=incident_cursor_overlap_minutes)
    rest_client = client.rest_client()
    for endpoint in (e for e in ENDPOINTS if e.arrow):
        resources[endpoint.name] = _arrow_resource(
            endpoint, rest_client, per_page, overlap, scope, progress, skipped
        )
    # keep the declaration order of ENDPOINTS
    return [resources[e.name] for e in ENDPOINTS]


def fetch_ahead(resource: DltResource) -> None:
    """A `rest_api` resource's pages fetched in a thread of their own (`read_ahead`), while dlt
    works on the other resources: dlt 1.31 ignores `parallelized` on a resource with an
    incremental argument, which leaves these pages to dlt's main thread, one at a time. The
    generator is still made when dlt starts the extraction (incremental bound by then)."""
    pipe = resource._pipe  # dlt has no public setter for a bound resource's generator
    generate = pipe.gen
    if callable(generate):
        pipe.replace_gen(lambda: read_ahead(generate()))


def pacing_for(requests: Optional[int], seconds: Optional[float]) -> RequestPacer:
    """The run's pacer from the source's settings, a bad pair named by its keys."""
    try:
        return RequestPacer.from_config(requests, seconds)
    except ValueError as e:
        raise IncidentApiConfigError(
            f"SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS / __RATE_LIMIT_SECONDS: {e}"
        ) from None


class RunScope:
    """What the run asks for: everything, what changed since the cursor, or a fixed window."""

    def __init__(self, full_refresh: bool, start: Optional[str], end: Optional[str],
                 lookback: timedelta = timedelta(0)) -> None:
        self.full_refresh, self.start, self.end = full_refresh, start, end
        self.lookback = lookback  # of the `starts_at` cursor: records edited after they start

    @property
    def bounded(self) -> bool:
        """A backfill between fixed instants: the stored cursors stay where they are."""
        return self.start is not None or self.end is not None


def _rest_api_resource(endpoint: Endpoint, scope: RunScope) -> dict[str, Any]:
    resource: dict[str, Any] = {
        **resource_hints(endpoint),
        "endpoint": {"path": endpoint.path, "params": dict(endpoint.params)},
        # independent endpoints are fetched concurrently; the pacer is shared
        "parallelized": True,
    }
    if endpoint.sync == "full":
        # the whole catalog comes back each run: swap it in, so removed records go away
        resource["write_disposition"] = "replace"
    elif not scope.full_refresh:
        cursor = {"updated_since": "updated_at", "starts_at": "starts_at"}[endpoint.sync]
        incremental: dict[str, Any] = {
            "start_param": endpoint.sync,
            "cursor_path": cursor,
            "initial_value": scope.start or EPOCH,
            # a record without the cursor field is loaded, not dropped
            "on_cursor_value_missing": "include",
        }
        if endpoint.sync == "starts_at" and scope.lookback:
            # dlt asks from the stored cursor minus this (seconds), merges on `id`, and never
            # moves the stored cursor back; the lag applies to the first window too, which
            # must still start at EPOCH
            incremental["lag"] = scope.lookback.total_seconds()
            if not scope.start:
                incremental["initial_value"] = iso_utc(datetime.fromisoformat(EPOCH) + scope.lookback)
        if scope.end:
            # a bounded window does not move the stored cursor (dlt discards its state)
            incremental["end_value"] = scope.end
        resource["endpoint"]["incremental"] = incremental
    return resource


def _arrow_resource(
    endpoint: Endpoint, client: RESTClient, per_page: int, overlap: timedelta, scope: RunScope,
    progress: PageProgress, skipped: SkippedRecords,
) -> DltResource:
    """An endpoint whose pages become Arrow tables (`columnar.py`), not rows for dlt's
    row-by-row normalizer: `full` endpoints replaced whole, incidents (`updated_after`) merged.

    Incidents carry no `updated_at`; the server filters on edit time with `updated_after`.
    The cursor is the start of the last successful extraction minus `overlap` (clock skew,
    in-flight edits). It lives in dlt's resource state, which is committed with the load and
    restored from the destination, so a fresh machine continues where the last run ended.
    """
    if endpoint.sync not in ("full", "updated_after"):
        raise ValueError(f"endpoint {endpoint.name}: the Arrow path takes sync full or updated_after")
    incremental = endpoint.sync == "updated_after"
    disposition = "merge" if incremental else "replace"
    tables = ArrowTables(endpoint, disposition)
    page_hook = tables.page_hook()
    # child tables are declared by `tables`, as tables of their own, not as dlt nested hints
    hints = {k: v for k, v in resource_hints(endpoint).items() if k != "nested_hints"}

    @dlt.resource(write_disposition=disposition, **hints)
    def arrow_resource() -> Iterator[Any]:
        tables.known_children(resource)
        state = dlt.current.resource_state()
        extraction_started = datetime.now(timezone.utc)
        params: dict[str, Any] = {**endpoint.params, "per_page": per_page}
        if incremental and scope.bounded:
            params.update(
                {k: v for k, v in (("updated_after", scope.start), ("updated_before", scope.end)) if v}
            )
        elif incremental and not scope.full_refresh and state.get("updated_after"):
            params["updated_after"] = state["updated_after"]
        queries = [params]
        if ARCHIVED_PARAM in params:
            lists = incident_lists(lambda query: first_page(client, endpoint, query), params)
            logger.info(lists.describe())
            queries = list(lists.queries)
        pages = (
            page
            for query in queries
            for page in read_ahead(client.paginate(
                endpoint.path, params=query, hooks={"response": [page_hook, check_response, progress]}
            ))
        )
        yield from tables.batches(pages, resource)
        for reason, count in tables.skipped.items():
            skipped.add(endpoint.name, reason, count)
        if incremental and not scope.bounded:
            state["updated_after"] = iso_utc(extraction_started - overlap)

    resource = arrow_resource()
    tables.declare_children(resource)
    return resource


def first_page(client: RESTClient, endpoint: Endpoint, query: dict[str, Any]) -> dict[str, Any]:
    """One page of an endpoint's list, as JSON (errors as in a load)."""
    return client.get(endpoint.path, params=query, hooks={"response": [check_response]}).json()


def build_source(**overrides: Any) -> dlt.sources.DltSource:
    """A fresh source for one run, with a config error turned into one clear sentence.

    `skipped=SkippedRecords()` collects the records the run leaves out."""
    try:
        return incident_api_source(**overrides)
    except ConfigFieldMissingException as e:
        if "api_token" in e.fields:
            raise IncidentApiConfigError(NO_API_TOKEN) from None
        raise IncidentApiConfigError(
            f"missing configuration for the incident API source: {', '.join(e.fields)}"
        ) from None


# --- one-off requests outside a load (the new-incident sensor, the ping that tells an endpoint's
# own failure from the API's), configured exactly like the source

CHECK_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class ApiConfig:
    base_url: str
    api_token: Optional[str]


def api_config() -> ApiConfig:
    """The base URL and token: `incident_api_source`'s own arguments, resolved by dlt from the
    spec it derives from the source's signature (the same keys, sections and defaults). A
    missing token stays None here, for the request to refuse with the key to set."""
    spec = incident_api_source.ref.SPEC()
    resolved = resolve_configuration(spec, sections=(known_sections.SOURCES, SOURCE_NAME, SOURCE_NAME),
                                     accept_partial=True)
    return ApiConfig(base_url=resolved.base_url.rstrip("/"), api_token=resolved.api_token or None)


def configured_secrets() -> list[str]:
    """Every token the project could be using, to scrub from messages."""
    found = {os.environ.get(API_TOKEN_ENV), os.environ.get("API_TOKEN")}
    try:
        found.add(api_config().api_token)
    except Exception:  # a broken config provider must not break error reporting
        pass
    return sorted((s for s in found if s and len(s) >= 4), key=len, reverse=True)


class ApiCheckError(Exception):
    """Why a one-off request to the API (a sensor tick, the ping) failed, in a sentence safe to show."""


def api_get(config: ApiConfig, path: str, params: dict[str, Any], hooks: dict[str, Any]) -> requests.Response:
    """One authenticated GET under the base URL, retried once; errors as ApiCheckError."""
    try:
        client = make_client(
            config.base_url, config.api_token, max_retries=1, backoff_factor=0.5, timeout=CHECK_TIMEOUT_SECONDS
        )
        try:
            return client.rest_client().get(path, params=params, hooks=hooks)
        finally:
            client.session.close()
    except (IncidentApiError, requests.RequestException) as e:
        raise ApiCheckError(redact(describe_failure(e), [config.api_token or ""])) from None


def api_root_answers(config: Optional[ApiConfig] = None) -> bool:
    """Whether `GET /v1/ping` succeeds: tells an endpoint's own failure from the API's."""
    try:
        return api_get(config or api_config(), "ping", {}, {}).status_code == 200
    except ApiCheckError:
        return False
