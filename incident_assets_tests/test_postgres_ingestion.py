"""PostgreSQL as the destination, on a real server (conftest's `postgres_url`: a database of
the test's own): simulator → HTTP → dlt → PostgreSQL → report SQL, and the clear errors for
bad credentials. Only the contract's environment variables point the project there."""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
import psycopg2
import pytest

from incident_assets.incident_api.endpoints import ENDPOINTS
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.reliability.runner import report_tables
from incident_assets.simulator import Simulator
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import failure_message, ingest, materialize
from incident_assets_tests.ingestion import query as duckdb_query

KEY = "DESTINATION__POSTGRES__CREDENTIALS"
AS_OF = "2026-10-20T12:00:00Z"


def pg_query(url: str, sql: str) -> list[tuple]:
    con = psycopg2.connect(url)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def pg_tables(url: str, schema: str) -> set[str]:
    return {t for (t,) in pg_query(url, "select table_name from information_schema.tables "
                                        f"where table_schema = '{schema}'") if not t.startswith("_dlt")}


def pg_row_counts(url: str) -> dict[str, int]:
    present = pg_tables(url, "incident_api")
    return {e.name: pg_query(url, f"select count(*) from incident_api.{e.name}")[0][0]
            for e in ENDPOINTS if e.name in present}


def use_postgres(monkeypatch: pytest.MonkeyPatch, sim: Simulator, url: str, tmp_path: Path) -> None:
    point_project_at(monkeypatch, sim, tmp_path / "unused.duckdb")
    monkeypatch.delenv("DESTINATION__DUCKDB__CREDENTIALS")
    monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
    monkeypatch.setenv(KEY, url)


def report(as_of: str = AS_OF) -> dg.ExecuteInProcessResult:
    return materialize([*report_assets], run_config=report_run_config(as_of=as_of))


def test_ingest_twice_then_reports_in_postgres(simulator, postgres_url, monkeypatch, tmp_path):
    sim = simulator
    use_postgres(monkeypatch, sim, postgres_url, tmp_path)
    first = ingest()
    assert first.success
    assert pg_row_counts(postgres_url) == {e.name: sim.count(e.name) for e in ENDPOINTS}

    # the second run merges: one row per record, and it sees a change made in between
    open_incident = next(i for i in sim.records("incidents")
                         if not any(m["type"] == "resolved" for m in i["milestones"]))
    sim.resolve_incident(open_incident["id"])
    second = ingest()
    assert pg_row_counts(postgres_url) == {e.name: sim.count(e.name) for e in ENDPOINTS}
    for e in ENDPOINTS:
        assert pg_query(postgres_url, f"select count(*) - count(distinct {e.primary_key}) "
                                      f"from incident_api.{e.name}") == [(0,)], e.name
    incidents = sim.records("incidents")
    assert pg_query(postgres_url, "select count(*) from incident_api.incidents__milestones") == [
        (sum(len(i["milestones"]) for i in incidents),)]
    assert pg_query(
        postgres_url,
        "select count(*) from incident_api.incidents i join incident_api.incidents__milestones m "
        f"on m._dlt_parent_id = i._dlt_id where i.id = '{open_incident['id']}' and m.type = 'resolved'",
    ) == [(1,)]
    mats = {ev.asset_key.to_user_string(): ev.event_specific_data.materialization.metadata
            for ev in second.get_asset_materialization_events()}
    assert mats["incident_api/incidents"]["dagster/row_count"].value == sim.count("incidents")
    assert mats["incident_api/incidents"]["dagster/storage_kind"].value == "postgres"

    # every report table runs on PostgreSQL, from the same SQL files
    result = report()
    assert result.success
    built = {ev.asset_key.path[-1] for ev in result.get_asset_materialization_events()}
    assert built == set(report_tables())
    assert pg_query(postgres_url, "select count(*) from reliability.incident_facts") == [(len(incidents),)]


def normalized(value: Any) -> Any:
    """One representation per value across engines (drivers differ in numeric/time types)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, datetime):
        return (value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def contents(rows: list[tuple], approx: bool = False) -> list[tuple]:
    """Rows in a stable order; `approx`: floats compared approximately (engines differ in the
    last bit of a float)."""
    def order(row: tuple) -> str:
        return repr(tuple(f"{v:.4g}" if isinstance(v, float) else v for v in row))

    ordered = sorted((tuple(normalized(v) for v in r) for r in rows), key=order)
    if not approx:
        return ordered
    return [tuple(pytest.approx(v, rel=1e-9, abs=1e-9) if isinstance(v, float) else v for v in row)
            for row in ordered]


def headline_numbers(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], float]:
    """(table, name) -> value of every numeric metadata entry but the row count."""
    assert result.success
    numbers = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        for name, value in materialization.metadata.items():
            if isinstance(value, (dg.IntMetadataValue, dg.FloatMetadataValue)) and name != "dagster/row_count":
                numbers[(materialization.asset_key.path[-1], name)] = float(value.value)
    return numbers


def test_reports_mean_the_same_on_postgres_and_duckdb(postgres_url, monkeypatch, tmp_path):
    """The same API data through both destinations: every report table, cell by cell."""
    duckdb_file = tmp_path / "incidents.duckdb"
    with Simulator(incidents=300, seed=11) as sim:
        point_project_at(monkeypatch, sim, duckdb_file)
        assert ingest().success
        on_duckdb = report()
        use_postgres(monkeypatch, sim, postgres_url, tmp_path)
        assert ingest().success
        on_postgres = report()
    # the headline numbers each materialization records are the same too
    assert headline_numbers(on_postgres) == pytest.approx(headline_numbers(on_duckdb), rel=1e-9)
    assert headline_numbers(on_duckdb)
    for table in report_tables():
        columns = [c for (c,) in duckdb_query(
            duckdb_file, "select column_name from information_schema.columns where table_schema = "
                         f"'reliability' and table_name = '{table}' order by ordinal_position")]
        assert columns, table
        pg_columns = [c for (c,) in pg_query(
            postgres_url, "select column_name from information_schema.columns where table_schema = "
                          f"'reliability' and table_name = '{table}' order by ordinal_position")]
        assert pg_columns == columns, table
        select = f"select {', '.join(columns)} from reliability.{table}"
        expected = contents(duckdb_query(duckdb_file, select), approx=True)
        actual = contents(pg_query(postgres_url, select))
        assert len(actual) == len(expected), table
        for got, want in zip(actual, expected):
            assert got == want, table


# --- clear errors -------------------------------------------------------------------------

def assert_clear_failure(result: dg.ExecuteInProcessResult, password: str, *fragments: str) -> str:
    message = failure_message(result)
    assert KEY in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert password not in message
    # nowhere in the run's events either
    for event in result.all_events:
        assert password not in str(event.message or ""), event.message
    return message


def test_wrong_password_names_the_key(simulator, postgres_server, postgres_url, monkeypatch, tmp_path):
    parts = urlsplit(postgres_url)
    wrong = "not-the-pw-3141"
    url = postgres_url.replace(f":{parts.password}@", f":{wrong}@")
    use_postgres(monkeypatch, simulator, url, tmp_path)
    message = assert_clear_failure(ingest(raise_on_error=False), wrong,
                                   "password authentication failed", f"{parts.hostname}:{parts.port}")
    assert parts.password not in message
    assert pg_tables(postgres_url, "incident_api") == set()


def test_unreachable_host_names_host_and_key(simulator, postgres_url, monkeypatch, tmp_path):
    parts = urlsplit(postgres_url)
    # port 1 on the loopback: nothing listens there, the connection is refused at once
    url = postgres_url.replace(f"@{parts.hostname}:{parts.port}/", "@127.0.0.1:1/")
    use_postgres(monkeypatch, simulator, url, tmp_path)
    assert_clear_failure(ingest(raise_on_error=False), parts.password, "127.0.0.1:1")


def test_missing_credentials_name_the_key(simulator, postgres_url, monkeypatch, tmp_path):
    use_postgres(monkeypatch, simulator, postgres_url, tmp_path)
    monkeypatch.delenv(KEY)
    message = assert_clear_failure(ingest(raise_on_error=False), urlsplit(postgres_url).password)
    assert len(message.splitlines()) == 1, message
