"""The dlt pipeline every asset loads into and reads from: DuckDB by default.

`INCIDENT_ASSETS_DESTINATION` picks any dlt destination (`duckdb`, `postgres`, ...); its
credentials come from dlt's own keys (`DESTINATION__<NAME>__CREDENTIALS`). Build a pipeline
per run: it is cheap, and it picks up configuration changed since import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import dlt
from dlt.common.destination import Destination

from incident_assets.settings import DEFAULT_DUCKDB_PATH, PIPELINE_NAME, RAW_SCHEMA, destination_name

# dlt's default insert-values files cost 3x the time and 19x the memory of parquet on
# incident data (notes §8); use parquet where the destination loads it natively.
LOADER_FILE_FORMAT = {"duckdb": "parquet"}


def duckdb_path() -> Path:
    configured = dlt.config.get("destination.duckdb.credentials", str)
    return Path(configured) if configured else DEFAULT_DUCKDB_PATH


def make_destination(name: Optional[str] = None) -> Any:
    name = name or destination_name()
    # catalogs are replaced through a staging dataset, in one transaction: a failed
    # load leaves the previous catalog in place
    if name == "duckdb":
        path = duckdb_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(credentials=str(path), replace_strategy="insert-from-staging")
    return Destination.from_reference(name, replace_strategy="insert-from-staging")


def make_pipeline(pipelines_dir: Optional[str] = None) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=make_destination(),
        dataset_name=RAW_SCHEMA,
        pipelines_dir=pipelines_dir,
    )


def loader_file_format() -> Optional[str]:
    return LOADER_FILE_FORMAT.get(destination_name())
