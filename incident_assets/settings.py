"""Project-wide settings: where things live and which destination loads the data.

Configuration follows dlt's conventions (environment variables override `.dlt/*.toml`);
the keys are listed in the README.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_DUCKDB_PATH = DATA_DIR / "incidents.duckdb"
DEFAULT_HTML_REPORT_PATH = DATA_DIR / "reports" / "reliability.html"

PIPELINE_NAME = "incident_api"
RAW_SCHEMA = "incident_api"  # dlt dataset holding one table per endpoint
REPORT_SCHEMA = "reliability"

DESTINATION_ENV = "INCIDENT_ASSETS_DESTINATION"
# dlt's keys for the source's config (section `sources.incident_api`), named in error messages
API_TOKEN_ENV = "SOURCES__INCIDENT_API__API_TOKEN"
BASE_URL_ENV = "SOURCES__INCIDENT_API__BASE_URL"
AS_OF_ENV = "INCIDENT_ASSETS_AS_OF"
# one zone for the daily schedule and the reports' hours of the day (business / off / sleep)
TIMEZONE_ENV = "INCIDENT_ASSETS_TIMEZONE"
DEFAULT_TIMEZONE = "UTC"


def destination_name() -> str:
    return os.environ.get(DESTINATION_ENV, "").strip() or "duckdb"


def checked_timezone(name: str, key: str) -> str:
    """`name` if it is an IANA time zone, else a ValueError of one sentence naming `key`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory such as 'Europe'
        raise ValueError(f"{key}={name!r} is not an IANA timezone (e.g. 'UTC', 'Europe/Berlin')") from None
    return name


def configured_timezone() -> str:
    """The IANA time zone of the schedule: the env var, else UTC (the reports read it through
    their resource, `reliability/report_config.py`)."""
    return checked_timezone(os.environ.get(TIMEZONE_ENV, "").strip() or DEFAULT_TIMEZONE, TIMEZONE_ENV)
