"""A load runs with `destination.LOAD_DUCKDB_SETTINGS` on its held DuckDB connection and
`LOAD_DLT_SETTINGS` as dlt defaults (an environment variable of the same key wins); both are
gone once the load is over."""

from __future__ import annotations

import os

import duckdb

from incident_assets.destination import LOAD_DLT_SETTINGS, LOAD_DUCKDB_SETTINGS, DestinationResource

BUFFER_KEY = "DATA_WRITER__BUFFER_MAX_ITEMS"


def memory_limit(sql) -> str:
    return sql.execute_sql("select current_setting('memory_limit')")[0][0]


def insertion_order(sql) -> bool:
    return sql.execute_sql("select current_setting('preserve_insertion_order')")[0][0]


def test_a_load_holds_its_connection_with_the_load_settings_and_dlt_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv(BUFFER_KEY, raising=False)
    assert LOAD_DUCKDB_SETTINGS == {"memory_limit": "512MB", "preserve_insertion_order": False} and LOAD_DLT_SETTINGS == {BUFFER_KEY: "1000"}
    destination = DestinationResource(duckdb_file=str(tmp_path / "load.duckdb"))
    with destination.loading_pipeline() as pipeline:
        with pipeline.sql_client() as sql:
            assert insertion_order(sql) is False and memory_limit(sql) == "488.2 MiB"
        assert os.environ[BUFFER_KEY] == "1000"
    assert BUFFER_KEY not in os.environ
    # the file opened afresh has DuckDB's default again
    with duckdb.connect(str(tmp_path / "load.duckdb")) as connection:
        assert connection.execute("select current_setting('preserve_insertion_order')").fetchone()[0] is True
        assert connection.execute("select current_setting('memory_limit')").fetchone()[0] != "488.2 MiB"


def test_an_environment_setting_wins_over_the_load_default(tmp_path, monkeypatch):
    monkeypatch.setenv(BUFFER_KEY, "77")
    with DestinationResource(duckdb_file=str(tmp_path / "load.duckdb")).loading_pipeline():
        assert os.environ[BUFFER_KEY] == "77"
    assert os.environ[BUFFER_KEY] == "77"
