"""Helpers for tests that run the ingestion assets for real: Dagster's `materialize`, then SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import dagster as dg
import duckdb

from incident_assets.destination import schema_columns
from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.defs.resources import project_resources


def materialize(assets: Sequence[Any], **kwargs: Any) -> dg.ExecuteInProcessResult:
    """Dagster's `materialize` with the project's resources, configured from the environment as
    it is now (tests set it per test)."""
    return dg.materialize(assets, resources=project_resources(), **kwargs)


def ingest(
    selection: Optional[Sequence[str]] = None,
    run_config: Optional[dict[str, Any]] = None,
    raise_on_error: bool = True,
    instance: Optional[dg.DagsterInstance] = None,
) -> dg.ExecuteInProcessResult:
    """Materialize the ingestion assets (all, or `selection` like ["incident_api/teams"])."""
    return materialize(
        [incident_api_assets],
        selection=[dg.AssetKey.from_user_string(s) for s in selection] if selection else None,
        run_config={"ops": {"incident_api_assets": {"config": run_config}}} if run_config else None,
        raise_on_error=raise_on_error,
        instance=instance,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    # one sentence, however many steps failed with it (e.g. every report step on a bad setting)
    (message,) = {failure_text(f.step_failure_data) for f in result.get_step_failure_events()}
    return message


def failure_text(data) -> str:
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return data.error.message


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


class ReadOnlyFile:
    """A DuckDB file read through the one method the project's SQL helpers use (`execute_sql`)."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def execute_sql(self, sql: str) -> list[tuple]:
        return query(self.db, sql)


def columns(db: Path, schema: str = "incident_api") -> dict[str, list[str]]:
    """table -> column names, for every table of `schema` but dlt's own."""
    if not db.exists():
        return {}
    found = schema_columns(ReadOnlyFile(db), schema)
    return {t: [c for c, _ in cols] for t, cols in found.items() if not t.startswith("_dlt")}


def tables(db: Path, schema: str = "incident_api") -> set[str]:
    return set(columns(db, schema))


def row_counts(db: Path) -> dict[str, int]:
    present = tables(db)
    return {
        e.name: query(db, f"select count(*) from incident_api.{e.name}")[0][0]
        for e in ENDPOINTS
        if e.name in present
    }


def table_contents(db: Path) -> dict[str, list[tuple]]:
    """Every raw table without dlt's bookkeeping columns, rows sorted: comparable across loads."""
    contents = {}
    for table, names in sorted(columns(db).items()):
        cols = sorted(c for c in names if not c.startswith("_dlt"))
        quoted = ", ".join(f'"{c}"' for c in cols)
        contents[table] = sorted(query(db, f'select {quoted} from incident_api."{table}"'), key=repr)
    return contents
