"""The reports run with the DuckDB settings of `destination.REPORT_DUCKDB_SETTINGS`, and the
database gets DuckDB's defaults back afterwards."""

from __future__ import annotations

from incident_assets.destination import REPORT_DUCKDB_SETTINGS, report_settings
from incident_assets.reliability.runner import ReportParams, run_reports
from incident_assets_tests.reliability_inputs import AS_OF, loaded_destination


def setting(sql, name: str) -> str:
    return sql.execute_sql(f"select current_setting('{name}')")[0][0]


def test_reports_run_with_the_report_settings_then_the_defaults_are_back(tmp_path):
    dest = loaded_destination("duckdb", tmp_path)
    with dest.pipeline().sql_client() as sql:
        default = setting(sql, "memory_limit")
        assert REPORT_DUCKDB_SETTINGS == {"memory_limit": "1GB"}
        with report_settings(sql):
            expected = setting(sql, "memory_limit")
        assert expected == "953.6 MiB" and default != expected
        during = {setting(sql, "memory_limit") for _ in run_reports(sql, ReportParams(as_of=AS_OF))}
        assert during == {expected}
        assert setting(sql, "memory_limit") == default
