"""The dlt source for the incident API: `ENDPOINTS` (endpoints.py) turned into resources.

A factory in the shape of dlt's verified sources: its parameters are configuration, resolved
by dlt from `SOURCES__INCIDENT_API__*` environment variables or `.dlt/*.toml`. Call it once per
run: dagster-dlt mutates the source's schema while emitting metadata.
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from datetime import timedelta
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Optional

import dlt
import requests
from dlt.common import logger
from dlt.common.configuration import known_sections, resolve_configuration
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.typing import TSecretStrValue
from dlt.extract import DltResource
from dlt.sources.rest_api import rest_api_resources

from incident_assets.errors import redact
from incident_assets.incident_api.archived import ARCHIVED_PARAM, incident_lists
from incident_assets.incident_api.columnar import ArrowTables
from incident_assets.incident_api.cursors import IncrementalRead, RunScope
from incident_assets.incident_api.endpoints import ENDPOINTS, SOURCE_NAME, Endpoint, resource_hints
from incident_assets.incident_api.http import (
    NO_API_TOKEN,
    ApiClient,
    IncidentApiConfigError,
    IncidentApiError,
    check_response,
    describe_failure,
    make_client,
)
from incident_assets.incident_api.pages import PageReader
from incident_assets.incident_api.pacing import RequestPacer
from incident_assets.incident_api.progress import PageProgress
from incident_assets.settings import API_TOKEN_ENV

# `make demo` / `make dev` start the bundled simulator here
SIMULATOR_BASE_URL = "http://127.0.0.1:8765/v1"


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
            "endpoint": {
                "data_selector": "data",
                "params": {"per_page": per_page},
                "response_actions": [check_response, progress],
            },
        },
        "resources": [_rest_api_resource(e) for e in ENDPOINTS if not e.arrow],
    }
    resources = {r.name: r for r in rest_api_resources(config)}
    for endpoint in ENDPOINTS:
        if not endpoint.arrow:
            resources[endpoint.name].add_filter(skipped.keep_keyed(endpoint))
    overlap = timedelta(minutes=incident_cursor_overlap_minutes)
    for endpoint in (e for e in ENDPOINTS if e.arrow):
        resources[endpoint.name] = _arrow_resource(endpoint, client, per_page, overlap, scope, progress, skipped)
    # keep the declaration order of ENDPOINTS
    return [resources[e.name] for e in ENDPOINTS]


def pacing_for(requests: Optional[int], seconds: Optional[float]) -> RequestPacer:
    """The run's pacer from the source's settings, a bad pair named by its keys."""
    try:
        return RequestPacer.from_config(requests, seconds)
    except ValueError as e:
        raise IncidentApiConfigError(
            f"SOURCES__INCIDENT_API__RATE_LIMIT_REQUESTS / __RATE_LIMIT_SECONDS: {e}"
        ) from None


def _rest_api_resource(endpoint: Endpoint) -> dict[str, Any]:
    """A catalog endpoint (a page or two, listed whole each run): dlt's `rest_api` resource,
    replaced each run so that removed records go away."""
    if endpoint.sync != "full":
        raise ValueError(f"endpoint {endpoint.name}: an incremental endpoint takes the Arrow path")
    return {
        **resource_hints(endpoint),
        "endpoint": {"path": endpoint.path, "params": dict(endpoint.params)},
        "write_disposition": "replace",
    }


def _arrow_resource(
    endpoint: Endpoint, client: ApiClient, per_page: int, overlap: timedelta, scope: RunScope,
    progress: PageProgress, skipped: SkippedRecords,
) -> DltResource:
    """An endpoint whose pages become Arrow tables (`columnar.py`), not rows for dlt's
    row-by-row normalizer: `full` endpoints replaced whole, the others read from their cursor
    (`cursors.py`) and merged on `id`. Pages are read ahead, in a thread of their own
    (`ArrowTables.batches`)."""
    disposition = "replace" if endpoint.sync == "full" else "merge"
    tables = ArrowTables(endpoint, disposition)
    reader = PageReader(client, tables.json_paths,
                        on_page=lambda page: progress.page_read(page.endpoint, page.pagination, len(page.records)))
    # child tables are declared by `tables`, as tables of their own, not as dlt nested hints
    hints = {k: v for k, v in resource_hints(endpoint).items() if k != "nested_hints"}

    @dlt.resource(write_disposition=disposition, **hints)
    def arrow_resource() -> Iterator[Any]:
        tables.known_children(resource)
        tables.append_on_first_load(resource)
        state = dlt.current.resource_state()
        cursor = IncrementalRead(endpoint, scope, overlap) if endpoint.sync != "full" else None
        params: dict[str, Any] = {**endpoint.params, "per_page": per_page,
                                  **(cursor.params(state) if cursor else {})}
        queries = [params]
        if ARCHIVED_PARAM in params:
            lists = incident_lists(lambda query: reader.fetch(endpoint.path, query).body(), params)
            logger.info(lists.describe())
            queries = list(lists.queries)
        pages = (page for query in queries for page in reader.pages(endpoint.path, query))
        if cursor is not None:
            pages = (replace(page, records=cursor.kept(page.records)) for page in pages)
        yield from tables.batches(pages, resource)
        for reason, count in tables.skipped.items():
            skipped.add(endpoint.name, reason, count)
        if cursor is not None:
            cursor.commit(state)

    resource = arrow_resource()
    tables.declare_children(resource)
    return resource


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
            return client.get(path, params, hooks)
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
