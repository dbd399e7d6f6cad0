"""When ingestion runs: a daily load of every endpoint.

The report assets need no schedule of their own: their eager automation conditions, driven by
the automation condition sensor (`operations/`), refresh them after each load.

Configuration (read when the code location loads):
- `INCIDENT_ASSETS_INGEST_CRON`: cron of the daily load, default `0 5 * * *`;
- `INCIDENT_ASSETS_TIMEZONE`: its IANA timezone, default `UTC`.
"""

from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string

from incident_assets.incident_api.assets import GROUP

INGEST_CRON_ENV = "INCIDENT_ASSETS_INGEST_CRON"
TIMEZONE_ENV = "INCIDENT_ASSETS_TIMEZONE"
DEFAULT_INGEST_CRON = "0 5 * * *"  # early morning UTC, before people read the reports
DEFAULT_TIMEZONE = "UTC"

INGESTION_JOB_NAME = "incident_api_ingestion_job"
DAILY_SCHEDULE_NAME = "incident_api_daily_ingestion"


def ingest_cron() -> str:
    cron = os.environ.get(INGEST_CRON_ENV, "").strip() or DEFAULT_INGEST_CRON
    if not is_valid_cron_string(cron):
        raise ValueError(f"{INGEST_CRON_ENV}={cron!r} is not a valid cron expression (e.g. '0 5 * * *')")
    return cron


def schedule_timezone() -> str:
    tz = os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{TIMEZONE_ENV}={tz!r} is not an IANA timezone (e.g. 'UTC', 'Europe/Berlin')") from None
    return tz


incident_api_ingestion_job = dg.define_asset_job(
    INGESTION_JOB_NAME,
    selection=dg.AssetSelection.groups(GROUP),
    description="Loads every endpoint of the incident API (the `incident_api` group) and runs its checks.",
)


def build_daily_ingestion_schedule() -> dg.ScheduleDefinition:
    """Built from the environment each time, so tests can vary the cron and timezone."""
    return dg.ScheduleDefinition(
        name=DAILY_SCHEDULE_NAME,
        job=incident_api_ingestion_job,
        cron_schedule=ingest_cron(),
        execution_timezone=schedule_timezone(),
        description="Daily load of every incident API endpoint "
        f"(cron from {INGEST_CRON_ENV}, timezone from {TIMEZONE_ENV}).",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )


daily_ingestion_schedule = build_daily_ingestion_schedule()
