"""The ingestion assets' materialization metadata in a form a person reads.

dagster-dlt records dlt's load info as it comes: a `jobs` JSON list with file paths and ids,
and the destination, dataset, first-run flag and times as separate entries. Here they become
one markdown `dlt_load` entry; the column schemas (the table's and each child table's) get the
descriptions of `incident_api/column_docs.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Sequence

import dagster as dg

from incident_assets.defs.incident_api.column_schemas import described

# dagster-dlt's entries folded into `dlt_load`
DLT_LOAD_KEYS = ("destination_type", "destination_name", "dataset_name", "first_run", "started_at", "finished_at",
                 "jobs")


def _value(metadata: Mapping[str, Any], key: str) -> Any:
    """An entry's plain value (dagster-dlt gives some as metadata values, most as plain ones)."""
    entry = metadata.get(key)
    return entry.value if isinstance(entry, dg.MetadataValue) else entry


def _time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def load_markdown(metadata: Mapping[str, Any], load_ids: Sequence[str]) -> str:
    """dlt's load of this table in a few lines: where, when, how long, and its load jobs."""
    started, finished = _time(_value(metadata, "started_at")), _time(_value(metadata, "finished_at"))
    when = ""
    if started and finished:
        when = (f", {started:%Y-%m-%d %H:%M:%S} to {finished:%H:%M:%S} UTC "
                f"({(finished - started).total_seconds():.1f} s)")
    first = " (the pipeline's first run)" if _value(metadata, "first_run") else ""
    lines = [f"Loaded by dlt into {_value(metadata, 'destination_name')}, dataset "
             f"{_value(metadata, 'dataset_name')}{when}{first}. Load id {', '.join(load_ids) or 'none'}."]
    jobs = _value(metadata, "jobs") or []
    if jobs:
        lines += ["", "| load job | file format | state | size (KB) | seconds |", "|---|---|---|---|---|"]
        lines += [f"| {j.get('table_name')} | {j.get('file_format')} | {str(j.get('state', '')).removesuffix('_jobs')} "
                  f"| {(j.get('file_size') or 0) / 1024:,.1f} | {j.get('elapsed') or 0:,.2f} |" for j in jobs]
    return "\n".join(lines)


def readable(metadata: Mapping[str, Any], load_ids: Sequence[str]) -> dict[str, dg.MetadataValue]:
    """dagster-dlt's metadata with the load info as one markdown entry and described columns."""
    table = str(_value(metadata, "dagster/table_name") or "").rsplit(".", 1)[-1]
    shown: dict[str, dg.MetadataValue] = {}
    for key, entry in metadata.items():
        if key in DLT_LOAD_KEYS:
            continue
        schema = entry.schema if isinstance(entry, dg.TableSchemaMetadataValue) else entry
        if isinstance(schema, dg.TableSchema):  # the table's own, or a child table's
            entry = dg.MetadataValue.table_schema(described(table if key == "dagster/column_schema" else key, schema))
        shown[key] = entry
    shown["dlt_load"] = dg.MetadataValue.md(load_markdown(metadata, load_ids))
    return shown
