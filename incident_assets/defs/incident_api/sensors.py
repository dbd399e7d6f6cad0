"""A cheap poll of the incident API: load incidents only when some changed.

Each tick makes two one-record requests, `GET /v1/incidents?per_page=1&archived=true&updated_after=<cursor>`
and the same without `archived=true` (should the API list archived incidents only under that
flag, see archived.py), and reads their `pagination.count`. The cursor (the sensor's own, ISO-8601 UTC with milliseconds) is
the time of the previous check minus a small overlap for clock skew and in-flight edits. With
`minimum_interval_seconds=300` the sensor spends two requests per 5 minutes of the API's 50
requests per 10 seconds.
A `pagination.count` that is not a number of incidents (negative, not an integer) is refused
with a log line, and no run is requested; the cursor stays for the next tick.

Configuration is the source's own: `incident_api_source`'s arguments, resolved by dlt
(`SOURCES__INCIDENT_API__BASE_URL`, `SOURCES__INCIDENT_API__API_TOKEN` or `API_TOKEN`; see
`source.api_config`); nothing is read at import time.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import dagster as dg

from incident_assets.incident_api.archived import incident_lists
from incident_assets.defs.incident_api.asset_keys import ingestion_asset_key
from incident_assets.incident_api.endpoints import ENDPOINTS_BY_NAME, Endpoint
from incident_assets.incident_api.http import check_response
from incident_assets.incident_api.cursors import iso_utc
from incident_assets.incident_api.source import ApiCheckError, ApiConfig, api_config, api_get

INCIDENTS_KEY = ingestion_asset_key("incidents")
NEW_INCIDENT_SENSOR_NAME = "incident_api_new_incidents_sensor"
INCIDENTS_JOB_NAME = "incident_api_incidents_job"
# far under the API's 50 requests / 10 s: two one-record requests per tick
MINIMUM_INTERVAL_SECONDS = 300
CURSOR_OVERLAP = timedelta(seconds=30)


def count_incidents_changed_since(updated_after: str, config: Optional[ApiConfig] = None) -> int:
    """How many incidents (archived included) changed after `updated_after`: two one-record
    requests, the `archived=true` list and the default one, as a load probes them (archived.py:
    under the reading "archived only" of that flag, active incidents are listed only in the
    default list)."""
    endpoint = ENDPOINTS_BY_NAME["incidents"]
    query = {**endpoint.params, "updated_after": updated_after}
    return incident_lists(lambda q: counted_page(endpoint, config, q), query).incident_count


def counted_page(endpoint: Endpoint, config: Optional[ApiConfig], query: dict[str, Any]) -> dict[str, Any]:
    """One page of the list, refused when its `pagination.count` is not a number of incidents."""
    body: dict[str, Any] = api_get(config or api_config(), endpoint.path, query, {"response": [check_response]}).json()
    pagination = body.get("pagination")
    count = pagination.get("count") if isinstance(pagination, dict) else None
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 0):
        raise ApiCheckError(
            f"GET /v1/{endpoint.path} answered pagination.count={json.dumps(count)}, which is not "
            "a number of incidents: no run requested"
        )
    return body


incident_api_incidents_job = dg.define_asset_job(
    INCIDENTS_JOB_NAME,
    selection=dg.AssetSelection.assets(INCIDENTS_KEY),
    description="Loads only the incidents endpoint (what changed since the stored cursor) and runs its checks.",
)


def last_load_cursor(instance: dg.DagsterInstance) -> Optional[str]:
    """Where a sensor without a cursor starts: the last materialization of the incidents (by
    `make demo`, a job, the UI) minus the overlap, so that an up-to-date instance loads nothing
    again. None when incidents were never loaded."""
    event = instance.get_latest_materialization_event(INCIDENTS_KEY)
    if event is None:
        return None
    return iso_utc(datetime.fromtimestamp(event.timestamp, timezone.utc) - CURSOR_OVERLAP)


@dg.sensor(
    name=NEW_INCIDENT_SENSOR_NAME,
    job=incident_api_incidents_job,
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Asks the incident API (two one-record requests per tick) whether incidents changed since the "
    "last check, and only then loads `incident_api/incidents`. Cursor: time of the last check "
    f"minus {int(CURSOR_OVERLAP.total_seconds())} s, ISO-8601 UTC.",
)
def new_incident_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    checked_at = datetime.now(timezone.utc)
    next_cursor = iso_utc(checked_at - CURSOR_OVERLAP)
    tags = {"incident_assets/trigger": NEW_INCIDENT_SENSOR_NAME}
    since = context.cursor or last_load_cursor(context.instance)
    if not since:
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=f"first-check-{next_cursor}",
                    asset_selection=[INCIDENTS_KEY],
                    tags={**tags, "incident_assets/updated_after": "none (first check)"},
                )
            ],
            cursor=next_cursor,
        )
    try:
        changed = count_incidents_changed_since(since)
    except ApiCheckError as e:
        # the cursor stays: the next tick asks again for the same window
        context.log.warning(f"could not check the incident API for changes: {e}")
        return dg.SkipReason(f"could not check the incident API for changes: {e}")
    if changed == 0:
        return dg.SensorResult(
            skip_reason=f"no incident changed since {since}",
            cursor=next_cursor,
        )
    context.log.info(f"{changed} incident(s) changed since {since}: loading incidents")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"changed-after-{since}",
                asset_selection=[INCIDENTS_KEY],
                tags={**tags, "incident_assets/updated_after": since},
            )
        ],
        cursor=next_cursor,
    )
