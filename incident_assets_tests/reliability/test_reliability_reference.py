"""The independent reference computation, on the golden input: by hand and against the SQL."""

from __future__ import annotations

from datetime import date

import pytest
from pytest import approx

from incident_assets.reliability.runner import ReportParams, run_reports
from incident_assets_tests import reliability_reference as ref
from incident_assets_tests.reliability_inputs import (
    AS_OF, INCIDENTS, MAINTENANCES, WEIGHT_INCIDENTS, WEIGHTS, loaded_destination,
)

BY_ID = {i["id"]: i for i in INCIDENTS}


@pytest.mark.parametrize("incident_id, expected", [
    ("inc-03", {"seconds_to_resolve": 10800, "impact_seconds": 10800}),  # reopened
    ("inc-04", {"seconds_to_resolve": 7200, "seconds_to_acknowledge": 1800}),  # postmortem_started
    ("inc-05", {"seconds_to_acknowledge": None, "has_negative_duration": True, "impact_seconds": 1800}),
    ("inc-07", {"exclusion_reason": "archived", "is_reportable": False}),
    ("inc-06", {"exclusion_reason": "severity:GAMEDAY"}),
    ("inc-08", {"is_reportable": True, "severity": None}),
    ("inc-09", {"is_open": True, "age_seconds": 432000, "impact_seconds": None}),
    ("inc-11", {"seconds_to_resolve": 7200}),
])
def test_reference_facts(incident_id, expected):
    got = ref.facts(BY_ID[incident_id], AS_OF)
    assert {k: got[k] for k in expected} == expected


def test_reference_mttr_and_backlog():
    mttr = ref.mttr_by_month_and_severity(INCIDENTS, AS_OF)
    assert mttr[(date(2024, 1, 1), "all")] == {"n": 5, "n_missing": 0, "p50_seconds": 7200, "p90_seconds": approx(12960)}
    assert mttr[(date(2024, 1, 1), "SEV1")]["p90_seconds"] == approx(13680)
    assert mttr[(date(2024, 3, 1), "all")]["n_missing"] == 2
    assert (date(2024, 2, 1), "GAMEDAY") not in mttr
    assert ref.open_backlog_counts(INCIDENTS, AS_OF) == {"all": 2, "SEV1": 1, "SEV2": 1}
    assert ref.percentile([], 0.5) is None


def test_reference_agrees_with_sql(tmp_path):
    dest = loaded_destination("duckdb", tmp_path)
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
    rows = dest.query("select month, dimension_id, n, n_missing, p50_seconds, p90_seconds from reliability.mttx_monthly "
                      "where metric = 'resolve' and dimension in ('all', 'severity')")
    sql_mttr = {(r[0], r[1]): {"n": r[2], "n_missing": r[3], "p50_seconds": r[4], "p90_seconds": r[5]} for r in rows}
    expected = ref.mttr_by_month_and_severity(INCIDENTS, AS_OF)
    assert sql_mttr.keys() == expected.keys()
    for key, stats in expected.items():
        assert sql_mttr[key] == {k: (approx(v) if v is not None else None) for k, v in stats.items()}, key
    backlog = dict(dest.query("select severity, n_open from reliability.open_incident_backlog"))
    assert backlog == ref.open_backlog_counts(INCIDENTS, AS_OF)
    facts = {r[0]: r[1:] for r in dest.query("select incident_id, seconds_to_resolve, is_reportable, is_open "
                                              "from reliability.incident_facts")}
    for incident in INCIDENTS:
        f = ref.facts(incident, AS_OF)
        assert facts[incident["id"]] == (f["seconds_to_resolve"], f["is_reportable"], f["is_open"])


# --- impact-weighted downtime -------------------------------------------------------------------

def test_reference_weights_by_hand():
    # the WEIGHTS inputs: see test_weighted_availability in the golden tests for the derivations
    minutes = ref.availability_minutes(WEIGHT_INCIDENTS, MAINTENANCES, AS_OF)
    assert minutes[("svc-pay", date(2024, 2, 1))] == approx(
        {"incident_minutes": 300, "impact_minutes": 117, "maintenance_minutes": 420})
    assert minutes[("svc-search", date(2024, 2, 1))]["impact_minutes"] == approx(30)
    assert minutes[("svc-auth", date(2024, 1, 1))]["impact_minutes"] == approx(0.3 * 17280)
    assert ref.bad_minutes_last_30_days(WEIGHT_INCIDENTS, MAINTENANCES, AS_OF)["svc-pay"] == approx(150)


def test_reference_weights_agree_with_sql(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, WEIGHTS)
    weights = {"partially unavailable": 0.5, "limping": 0.2}
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF, impact_weights=weights)))
    assert_availability_matches(dest.query, WEIGHT_INCIDENTS, MAINTENANCES, AS_OF, weights)


def assert_availability_matches(query, incidents, maintenances, as_of, weights=ref.WEIGHTS) -> None:
    """service_reliability_monthly and slo_error_budget's bad minutes against the reference."""
    expected = ref.availability_minutes(incidents, maintenances, as_of, weights)
    rows = query("select service_id, month, incident_minutes, impact_minutes, maintenance_minutes "
                 "from reliability.service_reliability_monthly")
    assert rows
    zero = {"incident_minutes": 0, "impact_minutes": 0, "maintenance_minutes": 0}
    for service, month, incident_minutes, impact_minutes, maintenance_minutes in rows:
        want = expected.get((service, month), zero)
        assert {"incident_minutes": incident_minutes, "impact_minutes": impact_minutes,
                "maintenance_minutes": maintenance_minutes} == approx(want, abs=1e-6), (service, month)
    bad = ref.bad_minutes_last_30_days(incidents, maintenances, as_of, weights)
    for service, bad_minutes in query("select service_id, bad_minutes from reliability.slo_error_budget"):
        assert bad_minutes == approx(bad.get(service, 0), abs=1e-6), service
