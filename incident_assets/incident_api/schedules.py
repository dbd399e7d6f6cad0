"""When ingestion runs: a daily load of every endpoint.

The report assets need no schedule of their own: their eager automation conditions, driven by
the automation condition sensor (`operations/`), refresh them after each load.

Configuration (read when the code location loads):
- `INCIDENT_ASSETS_INGEST_CRON`: cron of the daily load, default `0 5 * * *`;
- `INCIDENT_ASSETS_TIMEZONE`: its IANA timezone, default `UTC`. The reports' hours of the day
  (business / off / sleep) use the same zone, validated by the same `configured_timezone`.
"""

from __future__ import annotations

import os
from typing import Optional
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


def checked_timezone(name: str, key: str) -> str:
    """`name` if it is an IANA time zone, else a ValueError of one sentence naming `key`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as 'Europe'
        raise ValueError(f"{key}={name!r} is not an IANA timezone (e.g. 'UTC', 'Europe/Berlin')") from None
    return name


def configured_timezone(override: Optional[str] = None, override_key: str = "timezone") -> str:
    """The IANA time zone: `override` (e.g. a run config value) when given, else the env var, else UTC."""
    if override and override.strip():
        return checked_timezone(override.strip(), override_key)
    return checked_timezone(os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE, TIMEZONE_ENV)


def schedule_timezone() -> str:
    return configured_timezone()


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
