"""Helpers for tests that run the ingestion assets for real: Dagster's `materialize`, then SQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Sequence

import dagster as dg
import duckdb
from dagster_dlt import DagsterDltResource

from incident_assets.incident_api.assets import incident_api_assets
from incident_assets.incident_api.endpoints import ENDPOINTS


def ingest(
    selection: Optional[Sequence[str]] = None,
    run_config: Optional[dict[str, Any]] = None,
    raise_on_error: bool = True,
    instance: Optional[dg.DagsterInstance] = None,
) -> dg.ExecuteInProcessResult:
    """Materialize the ingestion assets (all, or `selection` like ["incident_api/teams"])."""
    return dg.materialize(
        [incident_api_assets],
        resources={"dlt": DagsterDltResource()},
        selection=[dg.AssetKey.from_user_string(s) for s in selection] if selection else None,
        run_config={"ops": {"incident_api_assets": {"config": run_config}}} if run_config else None,
        raise_on_error=raise_on_error,
        instance=instance,
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    assert not result.success
    (failure,) = result.get_step_failure_events()
    data = failure.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return data.error.message


def query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def tables(db: Path, schema: str = "incident_api") -> set[str]:
    if not db.exists():
        return set()
    return {
        t
        for (t,) in query(db, f"select table_name from information_schema.tables where table_schema = '{schema}'")
        if not t.startswith("_dlt")
    }


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
    for table in sorted(tables(db)):
        cols = [
            c
            for (c,) in query(
                db,
                "select column_name from information_schema.columns where table_schema = "
                f"'incident_api' and table_name = '{table}' order by column_name",
            )
            if not c.startswith("_dlt")
        ]
        quoted = ", ".join(f'"{c}"' for c in cols)
        contents[table] = sorted(query(db, f'select {quoted} from incident_api."{table}"'), key=repr)
    return contents
