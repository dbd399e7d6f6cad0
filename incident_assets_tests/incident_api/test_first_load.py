"""The first load of a merged endpoint is appended straight into its tables (nothing to merge
with yet); later loads merge on `id`. The plain dlt source, no Dagster: a real load over HTTP
from the simulator into a DuckDB file."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb

from incident_assets.incident_api.source import build_source
from incident_assets.simulator import DEFAULT_TOKEN, Simulator

MERGED = ("incidents", "change_events", "retrospectives")


def load(sim: Simulator, db: Path, pipelines: str = "pipelines", **source: object) -> None:
    pipeline = dlt.pipeline("first_load", destination=dlt.destinations.duckdb(str(db)), dataset_name="incident_api",
                            pipelines_dir=str(db.parent / pipelines))
    pipeline.run(build_source(base_url=sim.base_url, api_token=DEFAULT_TOKEN, **source).with_resources(*MERGED))


def rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def staging_tables(db: Path) -> set[str]:
    return {t for (t,) in rows(db, "select table_name from information_schema.tables "
                                   "where table_schema = 'incident_api_staging'")}


def test_the_first_load_appends_and_the_next_merges(tmp_path):
    db = tmp_path / "first.duckdb"
    with Simulator(incidents=150, seed=5) as sim:
        load(sim, db)
        # appended: no staging table was needed for any merged endpoint
        assert not {t for t in staging_tables(db) if t.split("__")[0] in MERGED}
        counts = {name: sim.count(name) for name in MERGED}
        assert {name: rows(db, f"select count(*), count(distinct id) from incident_api.{name}")[0]
                for name in MERGED} == {name: (n, n) for name, n in counts.items()}
        edited = next(i for i in sim.records("incidents") if i["milestones"])
        milestones_before = rows(db, "select count(*) from incident_api.incidents__milestones")[0][0]
        sim.set_fields("incidents", edited["id"], name="renamed", milestones=[])
        load(sim, db)
    # merged: the edited incident once, renamed, its milestones gone, nothing else touched
    assert rows(db, f"select name from incident_api.incidents where id = '{edited['id']}'") == [("renamed",)]
    assert rows(db, "select count(*), count(distinct id) from incident_api.incidents") == [
        (counts["incidents"], counts["incidents"])]
    assert rows(db, "select count(*) from incident_api.incidents__milestones m join incident_api.incidents i "
                    f"on m._dlt_root_id = i._dlt_id where i.id = '{edited['id']}'") == [(0,)]
    assert rows(db, "select count(*) from incident_api.incidents__milestones")[0][0] == (
        milestones_before - len(edited["milestones"]))
    assert "incidents" in staging_tables(db)


def test_a_fresh_machine_merges_into_a_loaded_destination(tmp_path):
    """A new machine (no local pipeline state) restores dlt's schema from the destination, which
    says the tables have data: reading everything again merges, nothing is appended twice."""
    db = tmp_path / "fresh.duckdb"
    with Simulator(incidents=150, seed=5) as sim:
        load(sim, db, pipelines="machine_a")
        load(sim, db, pipelines="machine_b", full_refresh=True)
        counts = {name: sim.count(name) for name in MERGED}
    assert {name: rows(db, f"select count(*), count(distinct id) from incident_api.{name}")[0]
            for name in MERGED} == {name: (n, n) for name, n in counts.items()}
    assert "incidents" in staging_tables(db)
