"""Golden tests of the percentile intervals (`mttx_monthly`) and of `mttx_change`, on DuckDB and
PostgreSQL alike. Inputs and their durations: `reliability_inputs_trends.py`; every expected
value below is derived by hand from them (docs/metrics.md, "Uncertainty and change")."""

from __future__ import annotations

import math
from datetime import date
from typing import Iterator

import pytest
from pytest import approx

from incident_assets.reliability.runner import ReportParams, ReportSqlError, run_reports
from incident_assets_tests.reliability_inputs import TestDestination, loaded_destination
from incident_assets_tests.reliability_inputs_trends import AS_OF_TRENDS, CHANGE_CASES, TRENDS
from incident_assets_tests.reliability.test_reliability_golden import engine_destination


def build(dest: TestDestination, **params) -> None:
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(**{"as_of": AS_OF_TRENDS, **params})))


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def trends(request, tmp_path_factory) -> Iterator[TestDestination]:
    """The inputs on each engine (postgres: a database of its own), reported as of AS_OF_TRENDS."""
    for dest in engine_destination(request, tmp_path_factory, TRENDS, "trends"):
        build(dest)  # engine_destination reported as of the golden instant
        yield dest


def floats(row: tuple) -> tuple:
    return tuple(None if v is None else float(v) for v in row)


# --- intervals ------------------------------------------------------------------------------------

INTERVAL = ("select n, p50_ci_low_seconds, p50_seconds, p50_ci_high_seconds, p90_ci_low_seconds, p90_seconds, "
            "p90_ci_high_seconds from reliability.mttx_monthly where month = date '2024-05-01' "
            "and dimension = 'service' and dimension_id = '{service}' and metric = '{metric}'")


@pytest.mark.parametrize("service, metric, expected_minutes", [
    # n = 0 (no detected milestone; an open incident): every statistic and bound NULL
    ("svc-n1", "detect", (0, None, None, None, None, None, None)),
    ("svc-open", "resolve", (0, None, None, None, None, None, None)),
    # n = 1: p50 h = 0.98, ranks ceil(-0.48) = 0 and ceil(1.48) = 2: both NULL;
    #        p90 h = 0.588, ranks ceil(0.312) = 1 and ceil(1.488) = 2: [x1, NULL]
    ("svc-n1", "resolve", (1, None, 42, None, 42, 42, None)),
    # n = 5: p50 h = 2.191, ranks 1 and 5; p90 h = 1.315, ranks 4 and 6 (> n)
    ("svc-n5", "resolve", (5, 10, 30, 50, 40, 46, None)),
    # n = 10 (the definition's example): p50 [x2, x9], p90 [x8, NULL]
    ("svc-n10", "resolve", (10, 20, 55, 90, 80, 91, None)),
    # n = 36: p50 h = 5.88, ranks ceil(12.12) = 13 and ceil(23.88) = 24;
    #         p90 h = 3.528, ranks ceil(28.872) = 29 and ceil(35.928) = 36
    ("svc-n36", "resolve", (36, 13, 18.5, 24, 29, 32.5, 36)),
    # ties, n = 10 sorted 10 20 20 20 30 30 40 50 50 60: p50 [x2, x9] = [20, 50], p90 [x8, NULL]
    ("svc-ties", "resolve", (10, 20, 30, 50, 50, 51, None)),
])
def test_percentile_intervals(trends, service, metric, expected_minutes):
    (row,) = trends.query(INTERVAL.format(service=service, metric=metric))
    expected = tuple(v if v is None else float(v * 60) for v in expected_minutes)
    assert floats(row) == approx((float(expected_minutes[0]),) + expected[1:])


def test_every_interval_holds_its_percentile(trends):
    """On every row of the table: low <= percentile <= high wherever the bound exists."""
    assert trends.query(
        "select count(*) from reliability.mttx_monthly where p50_ci_low_seconds > p50_seconds "
        "or p50_ci_high_seconds < p50_seconds or p90_ci_low_seconds > p90_seconds "
        "or p90_ci_high_seconds < p90_seconds or (n = 0 and coalesce(p50_ci_low_seconds, p50_ci_high_seconds, "
        "p90_ci_low_seconds, p90_ci_high_seconds) is not null)") == [(0,)]


# --- mttx_change ----------------------------------------------------------------------------------

CHANGE = ("select n_recent, n_baseline, p50_recent_seconds, p50_baseline_seconds, p50_change_pct, z_score, verdict "
          "from reliability.mttx_change where dimension = 'service' and dimension_id = '{service}' "
          "and metric = 'resolve'")


def z_complete_separation(n_r: int, n_b: int, sign: int) -> float:
    """U = n_r n_b (every recent duration longer) or 0; no ties."""
    return sign * (n_r * n_b / 2) / math.sqrt(n_r * n_b / 12 * (n_r + n_b + 1))


@pytest.mark.parametrize("service, expected", [
    ("svc-worse", (6, 8, 115, 47.5, 100 * (115 / 47.5 - 1), z_complete_separation(6, 8, 1), "worse")),
    ("svc-better", (8, 6, 47.5, 115, 100 * (47.5 / 115 - 1), z_complete_separation(8, 6, -1), "better")),
    ("svc-small-shift", (5, 5, 112, 102, 100 * (112 / 102 - 1), z_complete_separation(5, 5, 1), "no_change")),
    # recent ranks 2 4 6 8 10: R = 30, U = 15, mean 12.5, sigma^2 = 25 / 12 * 11
    ("svc-noisy", (5, 5, 130, 100, 30.0, 2.5 / math.sqrt(25 / 12 * 11), "no_change")),
    ("svc-few-recent", (4, 6, 250, 35, 100 * (250 / 35 - 1), None, "too_few")),
    ("svc-few-baseline", (6, 4, 350, 25, 1300.0, None, "too_few")),
    # two incidents on each side of the periods' edges are in, one before and one after are out
    ("svc-edges", (2, 2, 10, 10, 0.0, None, "too_few")),
    ("svc-tied", (5, 5, 30, 30, 0.0, None, "no_change")),
    # the five 0s tie (mid-rank 3), recent ranks 6..10: R = 40, U = 25, mean 12.5;
    # ties 5^3 - 5 = 120: sigma^2 = 25 / 12 * (11 - 120 / 90); z 2.79 but no change in % to judge
    ("svc-zero", (5, 5, 30, 0, None, 12.5 / math.sqrt(25 / 12 * (11 - 120 / 90)), "no_change")),
    # pooled: 5b 10b 10r 20b 20r 20r 25b 30r 40r 50b 60b; mid-ranks 10 -> 2.5, 20 -> 5;
    # R = 2.5 + 5 + 5 + 8 + 9 = 29.5, U = 29.5 - 15 = 14.5, mean 15; ties (2^3 - 2) + (3^3 - 3) = 30;
    # sigma^2 = 5 * 6 / 12 * (12 - 30 / (11 * 10)); medians 20 vs (20 + 25) / 2
    ("svc-hand", (5, 6, 20, 22.5, 100 * (20 / 22.5 - 1), -0.5 / math.sqrt(2.5 * (12 - 30 / 110)), "no_change")),
])
def test_mttx_change(trends, service, expected):
    (row,) = trends.query(CHANGE.format(service=service))
    n_recent, n_baseline, p50_recent_minutes, p50_baseline_minutes, change, z, verdict = expected
    assert floats(row[:6]) + row[6:] == approx(
        (n_recent, n_baseline, p50_recent_minutes * 60, p50_baseline_minutes * 60, change, z, verdict))


def test_hand_z_is_what_the_formula_says():
    # the svc-hand value spelled out: -0.5 / sqrt(2.5 * 11.727273) = -0.5 / 5.414627 = -0.092342
    assert -0.5 / math.sqrt(2.5 * (12 - 30 / 110)) == approx(-0.092342, abs=1e-6)


def test_periods_and_grain(trends):
    assert trends.query("select distinct as_of, recent_month, baseline_start from reliability.mttx_change") == [
        (AS_OF_TRENDS, date(2024, 5, 1), date(2024, 2, 1))]
    # a row per (service, metric) with a duration in either period: the resolve rows only (no
    # other milestone), the open incident's service none
    services = {r[0] for r in trends.query("select dimension_id from reliability.mttx_change "
                                           "where dimension = 'service'")}
    assert services == {"svc-n1", "svc-n5", "svc-n10", "svc-n36", "svc-ties", "svc-edges", *CHANGE_CASES}
    assert trends.query("select distinct metric from reliability.mttx_change") == [("resolve",)]


def test_counts_match_mttx_monthly(trends):
    """n_recent is mttx_monthly's n of the recent month, n_baseline the sum over the baseline's."""
    assert trends.query("""
        select count(*) from reliability.mttx_change as c
        where c.n_recent <> coalesce((select sum(m.n) from reliability.mttx_monthly as m
                where m.dimension = c.dimension and m.dimension_id = c.dimension_id and m.metric = c.metric
                  and m.month = c.recent_month), 0)
           or c.n_baseline <> coalesce((select sum(m.n) from reliability.mttx_monthly as m
                where m.dimension = c.dimension and m.dimension_id = c.dimension_id and m.metric = c.metric
                  and m.month >= c.baseline_start and m.month < c.recent_month), 0)""") == [(0,)]


def test_min_change_pct_is_configurable(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, TRENDS)
    build(dest, min_change_pct=5.0)
    # +9.8 % with complete separation is worse at 5 %
    assert dest.query(CHANGE.format(service="svc-small-shift"))[0][-1] == "worse"
    build(dest, min_change_pct=150.0)
    # +142 % is not enough at 150 %; the mirror -59 % neither
    assert [dest.query(CHANGE.format(service=s))[0][-1] for s in ("svc-worse", "svc-better")] == [
        "no_change", "no_change"]


@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf")])
def test_bad_min_change_pct_is_refused(value):
    with pytest.raises(ReportSqlError, match="min_change_pct must be a percentage >= 0"):
        ReportParams(as_of=AS_OF_TRENDS, min_change_pct=value).literals()
