"""The regression checks on the report assets: each passing and failing on data made for it, run
by Dagster's own `materialize`, by the definitions' jobs and by the automation sensor's runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from incident_assets.definitions import defs
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.defs.reliability.checks import report_checks
from incident_assets_tests.ingestion import failure_message, materialize
from incident_assets_tests.reliability_inputs import AS_OF_ISO, GOLDEN, WEIGHTS, loaded_destination
from incident_assets_tests.reliability_inputs_trends import AS_OF_TRENDS_ISO, TRENDS

CHECKS = {"mttx_regression": "reliability/mttx_change", "error_budget_exhausted": "reliability/slo_error_budget",
          "availability_below_slo": "reliability/service_reliability_monthly",
          "stale_open_incidents": "reliability/data_quality_issues"}


def run_reports(monkeypatch: pytest.MonkeyPatch, workdir: Path, data: dict, as_of: str,
                postgres_url: str | None = None, **config: Any) -> dict[str, dg.AssetCheckEvaluation]:
    """`data` loaded (a DuckDB file, or the PostgreSQL database given), every report table built
    with its checks; the evaluations by check."""
    dest = loaded_destination("postgres" if postgres_url else "duckdb", workdir, data, postgres_url=postgres_url)
    for name, value in dest.env().items():
        monkeypatch.setenv(name, value)
    result = materialize([*report_assets, *report_checks], run_config=report_run_config(as_of=as_of, **config))
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert {name: e.asset_key.to_user_string() for name, e in evaluations.items()} == CHECKS
    assert {e.severity for e in evaluations.values()} == {dg.AssetCheckSeverity.WARN}
    return evaluations


def test_checks_on_the_golden_data(monkeypatch, tmp_path):
    checks = run_reports(monkeypatch, tmp_path, GOLDEN, AS_OF_ISO)
    assert {name: e.passed for name, e in checks.items()} == {
        "mttx_regression": True,  # fewer than 5 incidents everywhere: too_few
        "error_budget_exhausted": False, "availability_below_slo": False, "stale_open_incidents": True}
    budget = checks["error_budget_exhausted"]
    # svc-api: 7200 bad minutes of 21.6 (99.95 %); svc-web 150 of 43.2 (99.9 %); svc-db 90 of 216 is within
    assert budget.description == (
        "2 services over budget: error budget of service API: 33,333 % consumed (7,200.0 bad minutes of 21.6 at "
        "99.95 %, burn rate 333.3, worst incident inc-09); error budget of service Web: 347 % consumed (150.0 bad "
        "minutes of 43.2 at 99.9 %, burn rate 3.5, worst incident inc-13)")
    assert budget.metadata["services_over_budget"].value == 2
    assert budget.metadata["worst_budget_consumed_pct"].value == pytest.approx(100 * 7200 / 21.6)
    availability = checks["availability_below_slo"]
    # February (41760 min): Web down 120 min (I4), API 30 min (I5); Database's 130 min meet 99.5 %
    assert availability.description == (
        "2 services below SLO: availability of service Web in 2024-02: 99.713 % against its 99.9 % SLO "
        "(2.0 h of weighted downtime); availability of service API in 2024-02: 99.928 % against its 99.95 % "
        "SLO (30 min of weighted downtime)")
    assert availability.metadata["worst_availability_pct"].value == pytest.approx(100 * (1 - 120 / 41760))
    assert checks["mttx_regression"].description == (
        "no evidence that MTTA or MTTR got worse (overall, per service, per team)")
    assert checks["stale_open_incidents"].metadata["stale_incidents"].value == 0


def test_checks_on_postgres(monkeypatch, tmp_path, postgres_url):
    checks = run_reports(monkeypatch, tmp_path, GOLDEN, AS_OF_ISO, postgres_url=postgres_url)
    assert {name: e.passed for name, e in checks.items()} == {
        "mttx_regression": True, "error_budget_exhausted": False, "availability_below_slo": False,
        "stale_open_incidents": True}
    assert checks["availability_below_slo"].metadata["services_below_slo"].value == 2


def test_checks_pass_with_lenient_targets(monkeypatch, tmp_path):
    checks = run_reports(monkeypatch, tmp_path, GOLDEN, AS_OF_ISO, slo_target_pct_by_tier={},
                         slo_default_target_pct=50.0)
    assert checks["error_budget_exhausted"].passed and checks["availability_below_slo"].passed
    assert checks["error_budget_exhausted"].description == "every service is within its 30-day error budget"


def test_stale_open_incident_fails_its_check(monkeypatch, tmp_path):
    check = run_reports(monkeypatch, tmp_path, WEIGHTS, AS_OF_ISO)["stale_open_incidents"]
    assert not check.passed
    assert check.description == "1 stale incident: incident #27 (inc-27) open for 55 days"
    assert check.metadata["stale_incidents"].value == 1


def test_a_worse_mttr_fails_mttx_regression(monkeypatch, tmp_path):
    check = run_reports(monkeypatch, tmp_path, TRENDS, AS_OF_TRENDS_ISO)["mttx_regression"]
    assert not check.passed
    # svc-worse: medians 47.5 -> 115 min, U = 48 of 48: z = 24 / sqrt(60) = 3.1, 6 recent vs 8 baseline
    assert check.description == ("1 regression: MTTR of service Worse: p50 48 min -> 115 min "
                                 "(+142 %, z = 3.1, 6 vs 8 incidents)")
    (row,) = check.metadata["worse_rows"].value
    assert row == {"dimension": "service", "dimension_id": "svc-worse", "dimension_name": "Worse",
                   "metric": "resolve", "verdict": "worse", "p50_before_seconds": 2850.0, "p50_after_seconds": 6900.0,
                   "p50_change_pct": pytest.approx(142.105, abs=1e-3), "z_score": pytest.approx(3.098, abs=1e-3),
                   "incidents_recent": 6, "incidents_baseline": 8}
    assert check.metadata["recent_month"].value == "2024-05"


# --- run with their assets: jobs (the automation sensor's runs: test_webserver_e2e.py) -------------

def test_every_job_with_a_report_asset_runs_its_check():
    report_check_keys = {dg.AssetCheckKey.from_user_string(f"{asset}:{name}") for name, asset in CHECKS.items()}
    for job_name in ("all_assets_job",):
        graph = defs.resolve_job_def(job_name).asset_layer.asset_graph
        assert report_check_keys <= set(graph.asset_check_keys), job_name



def test_a_bad_min_change_pct_fails_the_run_naming_the_key(monkeypatch, tmp_path):
    dest = loaded_destination("duckdb", tmp_path, GOLDEN)
    for name, value in dest.env().items():
        monkeypatch.setenv(name, value)
    result = materialize(report_assets, raise_on_error=False, run_config=report_run_config(min_change_pct=-5.0))
    assert failure_message(result) == "run config min_change_pct must be a percentage >= 0, not -5.0"
