"""Destination choice without a server: loader format per destination, and the credential
check's message (a refused connection; the password never shows)."""

from __future__ import annotations

import pytest

from incident_assets.destination import (
    DestinationConfigError, check_destination, loader_file_format, make_pipeline,
)

KEY = "DESTINATION__POSTGRES__CREDENTIALS"


def test_parquet_only_for_duckdb(monkeypatch):
    monkeypatch.delenv("INCIDENT_ASSETS_DESTINATION", raising=False)
    assert loader_file_format() == "parquet"
    # dlt 1.31 lists parquet for postgres only through the optional ADBC driver: keep its default
    monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
    assert loader_file_format() is None


def test_check_names_key_and_host_and_hides_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
    monkeypatch.setenv(KEY, "postgresql://loader:s3cret-pw@127.0.0.1:1/incidents")
    with pytest.raises(DestinationConfigError) as caught:
        check_destination(make_pipeline(pipelines_dir=str(tmp_path)))
    message = str(caught.value)
    assert KEY in message and "127.0.0.1:1" in message and "s3cret-pw" not in message
    assert "\n" not in message


def test_check_missing_credentials(monkeypatch, tmp_path):
    monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
    monkeypatch.delenv(KEY, raising=False)
    with pytest.raises(DestinationConfigError, match=KEY):
        check_destination(make_pipeline(pipelines_dir=str(tmp_path)))


def test_duckdb_needs_no_check(monkeypatch, tmp_path):
    monkeypatch.delenv("INCIDENT_ASSETS_DESTINATION", raising=False)
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(tmp_path / "x.duckdb"))
    check_destination(make_pipeline(pipelines_dir=str(tmp_path)))
    assert not (tmp_path / "x.duckdb").exists()


def test_report_assets_fail_with_the_same_sentence_before_any_sql(monkeypatch, tmp_path):
    import dagster as dg

    from incident_assets.reliability.assets import reliability_assets

    monkeypatch.setenv("INCIDENT_ASSETS_DESTINATION", "postgres")
    monkeypatch.setenv(KEY, "postgresql://loader:s3cret-pw@127.0.0.1:1/incidents")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path))
    result = dg.materialize([reliability_assets], raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.message
    assert "cannot connect to the postgres destination at 127.0.0.1:1" in message
    assert KEY in message and "s3cret-pw" not in message
