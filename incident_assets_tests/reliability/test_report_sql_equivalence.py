"""The rewritten report SQL gives the same tables as the SQL it replaced.

`sql_before/<table>.sql` holds each report's SQL as it was before it was rewritten for speed
(the reference formulation). Both chains run over the same loaded data: the current SQL into
the report schema, the reference SQL into a schema of its own, and every table must come out
identical, row for row, on DuckDB and on PostgreSQL (the SQL files serve both). The one tolerance is for averages and sums of doubles, whose last bits
depend on the order in which the engine adds the values up.

When a table's definition changes on purpose, change its reference file the same way.
"""

from __future__ import annotations

import math
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from incident_assets.destination import DestinationResource
from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.reliability.runner import ReportParams, render, report_tables, run_reports
from incident_assets.simulator import Simulator
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import materialize
from incident_assets_tests.reliability_inputs import AS_OF as GOLDEN_AS_OF
from incident_assets_tests.reliability_inputs import loaded_destination

BEFORE_DIR = Path(__file__).parents[1] / "sql_before"
BEFORE_SCHEMA = "reliability_before"
SIMULATOR_AS_OF = datetime(2026, 10, 20, 12, tzinfo=timezone.utc)  # inside the simulator's data
# (table, column) whose values are averages or sums of doubles: compared to a relative 1e-12
AVERAGES = {("mttx_monthly", "mean_seconds"), ("responder_load_monthly", "effort_hours")}
PARAMS = {
    "defaults": {},
    "other settings": {"change_window": timedelta(minutes=90), "retrospective_due": timedelta(days=3),
                       "excluded_severities": ("SEV4",)},
}


def reference_tables() -> dict[str, str]:
    """The reference SQL per table, in the current dependency order (which the references share)."""
    names = {p.stem for p in BEFORE_DIR.glob("*.sql")}
    assert names <= set(report_tables()), f"references without a report table: {names - set(report_tables())}"
    return {name: (BEFORE_DIR / f"{name}.sql").read_text() for name in report_tables() if name in names}


def fetch(sql: Any, query: str) -> tuple[list[str], list[tuple]]:
    with sql.execute_query(query) as cursor:
        return [d[0] for d in cursor.description], [tuple(r) for r in cursor.fetchall()]


def sort_key(row: tuple, skip: set[int]) -> tuple:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for i, v in enumerate(row) if i not in skip)


def assert_same_table(sql: Any, table: str, report_schema: str) -> int:
    columns, current = fetch(sql, f"select * from {report_schema}.{table}")
    before_columns, before = fetch(sql, f"select * from {BEFORE_SCHEMA}.{table}")
    assert columns == before_columns, f"{table}: columns differ"
    averages = {i for i, c in enumerate(columns) if (table, c) in AVERAGES}
    current.sort(key=lambda r: sort_key(r, averages))
    before.sort(key=lambda r: sort_key(r, averages))
    assert len(current) == len(before), f"{table}: {len(current)} rows, {len(before)} before"
    for now, then in zip(current, before):
        for i, (a, b) in enumerate(zip(now, then)):
            if i in averages and a is not None and b is not None:
                assert math.isclose(a, b, rel_tol=1e-12), f"{table}.{columns[i]}: {a} != {b} in {then}"
            else:
                assert a == b, f"{table}.{columns[i]}: {a!r} != {b!r} in {then}"
    return len(current)


def compare_chains(sql: Any, params: ReportParams) -> dict[str, int]:
    """Builds both chains over the loaded data; returns rows per compared table."""
    list(run_reports(sql, params))
    literals = params.literals()
    sql.execute_sql(f"create schema if not exists {BEFORE_SCHEMA}")
    references = reference_tables()
    # the reference chain is whole: a table without a reference runs its current SQL over the
    # reference chain's inputs
    chain = {name: references.get(name, table.template) for name, table in report_tables().items()}
    for name, template in chain.items():
        sql.execute_sql(f"drop table if exists {BEFORE_SCHEMA}.{name}")
        sql.execute_sql(f"create table {BEFORE_SCHEMA}.{name} as\n"
                        f"{render(template, literals, report_schema=BEFORE_SCHEMA, name=name)}")
    return {name: assert_same_table(sql, name, "reliability") for name in references}


@pytest.fixture(scope="module")
def simulated_db(tmp_path_factory) -> Path:
    """The simulator's incidents loaded through the project into a DuckDB file."""
    db = tmp_path_factory.mktemp("equivalence") / "incidents.duckdb"
    with Simulator(incidents=600, seed=11) as sim, pytest.MonkeyPatch.context() as mp:
        point_project_at(mp, sim, db)
        assert materialize([incident_api_assets]).success
    return db


def connected(db: Path) -> Any:
    """A SQL client of the project's destination on `db` (a context manager)."""
    return DestinationResource(duckdb_file=str(db)).sql_client()


@pytest.mark.parametrize("settings", PARAMS.values(), ids=PARAMS.keys())
def test_simulated_data_gives_the_same_tables(simulated_db, settings):
    with connected(simulated_db) as sql:
        rows = compare_chains(sql, ReportParams(as_of=SIMULATOR_AS_OF, **settings))
        (failed,), = fetch(sql, "select sum(n_failed_changes) from reliability.change_failure_monthly")[1]
    assert rows.keys() == {p.stem for p in BEFORE_DIR.glob("*.sql")}
    # every compared table has rows, so the comparison is not vacuous; some changes failed
    assert all(rows.values()), rows
    assert failed > 0


def test_incidents_without_impact_entries_give_the_same_tables(simulated_db, tmp_path):
    """No incident says how it hurts its services: every listed service is a missing impact
    condition (incidents listing one, two and more services), and every downtime weighs 1, so no
    service has intervals weighing 0."""
    db = tmp_path / "no_impacts.duckdb"
    shutil.copyfile(simulated_db, db)
    with connected(db) as sql:
        sql.execute_sql("delete from incident_api.incidents__impacts")
        rows = compare_chains(sql, ReportParams(as_of=SIMULATOR_AS_OF))
        _, listed = fetch(sql, "select distinct least(length(detail) - length(replace(detail, ',', '')) + 1, 3) "
                               "from reliability.data_quality_issues where problem = 'missing_impact_condition'")
        _, weights = fetch(sql, "select distinct weight from reliability.service_impact_intervals")
    assert sorted(listed) == [(1,), (2,), (3,)]
    assert weights == [(1.0,)]
    assert rows["service_downtime_pieces"] > 0


@pytest.mark.parametrize("settings", PARAMS.values(), ids=PARAMS.keys())
def test_golden_data_gives_the_same_tables(tmp_path, settings):
    dest = loaded_destination("duckdb", tmp_path)
    with dest.pipeline().sql_client() as sql:
        rows = compare_chains(sql, ReportParams(as_of=GOLDEN_AS_OF, **settings))
    assert rows["incident_facts"] > 0 and rows["mttx_monthly"] > 0


def test_golden_data_gives_the_same_tables_on_postgres(tmp_path, postgres_url):
    dest = loaded_destination("postgres", tmp_path, postgres_url=postgres_url)
    with dest.pipeline().sql_client() as sql:
        rows = compare_chains(sql, ReportParams(as_of=GOLDEN_AS_OF))
    assert rows["incident_facts"] > 0 and rows["mttx_monthly"] > 0 and rows["mttx_change"] > 0
