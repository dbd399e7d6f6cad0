"""Project-wide settings: where things live and which destination loads the data.

Configuration follows dlt's conventions (environment variables override `.dlt/*.toml`);
the keys are listed in the README and in `shared/contract.md`.
"""

from __future__ import annotations

import os
from pathlib import Path

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


def destination_name() -> str:
    return os.environ.get(DESTINATION_ENV, "").strip() or "duckdb"
