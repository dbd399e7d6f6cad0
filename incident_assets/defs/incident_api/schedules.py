"""When ingestion runs: a daily load of every endpoint.

The report assets need no schedule of their own: their eager automation conditions, driven by
the automation condition sensor (`defs/operations/`), refresh them after each load.

Configuration (read when the code location loads):
- `INCIDENT_ASSETS_INGEST_CRON`: cron of the daily load, default `0 5 * * *`;
- `INCIDENT_ASSETS_TIMEZONE`: its IANA timezone, default `UTC`. The reports' hours of the day
  (business / off / sleep) use the same zone, validated by the same `checked_timezone`.
"""

from __future__ import annotations

import os

import dagster as dg

from incident_assets.defs.incident_api.assets import GROUP
from incident_assets.settings import TIMEZONE_ENV, configured_timezone

INGEST_CRON_ENV = "INCIDENT_ASSETS_INGEST_CRON"
DEFAULT_INGEST_CRON = "0 5 * * *"  # early morning UTC, before people read the reports

INGESTION_JOB_NAME = "incident_api_ingestion_job"
DAILY_SCHEDULE_NAME = "incident_api_daily_ingestion"


def ingest_cron() -> str:
    """The daily load's cron expression, from the environment (checked when the schedule is built)."""
    return os.environ.get(INGEST_CRON_ENV, "").strip() or DEFAULT_INGEST_CRON


incident_api_ingestion_job = dg.define_asset_job(
    INGESTION_JOB_NAME,
    selection=dg.AssetSelection.groups(GROUP),
    description="Loads every endpoint of the incident API (the `incident_api` group) and runs its checks.",
)


def build_daily_ingestion_schedule() -> dg.ScheduleDefinition:
    """Built from the environment each time, so tests can vary the cron and timezone. A bad cron
    expression or time zone fails the code location with one sentence naming its variable."""
    cron, timezone = ingest_cron(), configured_timezone()
    try:
        return dg.ScheduleDefinition(
            name=DAILY_SCHEDULE_NAME,
            job=incident_api_ingestion_job,
            cron_schedule=cron,
            execution_timezone=timezone,
            description="Daily load of every incident API endpoint "
            f"(cron from {INGEST_CRON_ENV}, timezone from {TIMEZONE_ENV}).",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
    except dg.DagsterInvalidDefinitionError:
        raise ValueError(f"{INGEST_CRON_ENV}={cron!r} is not a valid cron expression (e.g. '0 5 * * *')") from None


daily_ingestion_schedule = build_daily_ingestion_schedule()
