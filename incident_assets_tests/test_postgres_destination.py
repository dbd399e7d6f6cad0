"""Destination choice without a server: loader format per destination, and the credential
check's message (a refused connection; the password never shows)."""

from __future__ import annotations

import pytest

from incident_assets.destination import DestinationConfigError, DestinationResource
from incident_assets_tests.ingestion import materialize

KEY = "DESTINATION__POSTGRES__CREDENTIALS"


def test_parquet_only_for_duckdb():
    assert DestinationResource().loader_file_format() == "parquet"
    # dlt 1.31 lists parquet for postgres only through the optional ADBC driver: keep its default
    assert DestinationResource(name="postgres").loader_file_format() is None


def test_check_names_key_and_host_and_hides_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv(KEY, "postgresql://loader:s3cret-pw@127.0.0.1:1/incidents")
    postgres = DestinationResource(name="postgres")
    with pytest.raises(DestinationConfigError) as caught:
        postgres.check(postgres.pipeline(pipelines_dir=str(tmp_path)))
    message = str(caught.value)
    assert KEY in message and "127.0.0.1:1" in message and "s3cret-pw" not in message
    assert "\n" not in message


def test_check_missing_credentials(monkeypatch, tmp_path):
    monkeypatch.delenv(KEY, raising=False)
    postgres = DestinationResource(name="postgres")
    with pytest.raises(DestinationConfigError, match=KEY):
        postgres.check(postgres.pipeline(pipelines_dir=str(tmp_path)))


def test_duckdb_check_of_a_new_file_makes_its_folder_only(tmp_path):
    duckdb = DestinationResource(duckdb_file=str(tmp_path / "new" / "x.duckdb"))
    duckdb.check(duckdb.pipeline(pipelines_dir=str(tmp_path / "dlt")))
    # DuckDB creates the file, never its folder; nothing to lock yet: the load creates the file
    assert (tmp_path / "new").is_dir() and list((tmp_path / "new").iterdir()) == []


def test_report_assets_fail_with_the_same_sentence_before_any_sql(monkeypatch, tmp_path):
    from incident_assets.defs.reliability.assets import report_assets

    monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
    monkeypatch.setenv(KEY, "postgresql://loader:s3cret-pw@127.0.0.1:1/incidents")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path))
    result = materialize([*report_assets], raise_on_error=False)
    assert not result.success
    # every report step that ran fails with it (the others wait on a failed one)
    (message,) = {f.step_failure_data.error.message for f in result.get_step_failure_events()}
    assert "cannot connect to the postgres destination at 127.0.0.1:1" in message
    assert KEY in message and "s3cret-pw" not in message
