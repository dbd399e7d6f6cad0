"""Simulator → HTTP → dlt → DuckDB → report SQL, checked against an independent Python
computation over the records the API served (reliability_reference.py), plus invariants."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest

from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.simulator import Simulator
from incident_assets_tests import reliability_reference as reference
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import materialize, query
from incident_assets_tests.reliability.test_reliability_reference import assert_availability_matches

AS_OF = "2026-10-20T12:00:00Z"  # inside the simulator's data, so that the current month is cut


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> tuple[Path, list[dict], list[dict]]:
    db = tmp_path_factory.mktemp("e2e") / "incidents.duckdb"
    with Simulator(incidents=600, seed=11) as sim, pytest.MonkeyPatch.context() as mp:
        point_project_at(mp, sim, db)
        result = materialize(
            [incident_api_assets, *report_assets],
            run_config=report_run_config(as_of=AS_OF),
        )
        assert result.success
        incidents = sim.records("incidents")
        maintenances = sim.records("scheduled_maintenances")
    return db, incidents, maintenances


def as_of() -> datetime:
    return datetime.fromisoformat(AS_OF.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_incident_facts_match_the_reference(loaded):
    db, incidents, _ = loaded
    expected = {i["id"]: reference.facts(i, as_of()) for i in incidents}
    rows = query(
        db,
        "select incident_id, is_open, is_reportable, seconds_to_resolve, seconds_to_acknowledge "
        "from reliability.incident_facts",
    )
    assert len(rows) == len(incidents)
    for incident_id, is_open, is_reportable, to_resolve, to_ack in rows:
        want = expected[incident_id]
        assert (is_open, is_reportable) == (want["is_open"], want["is_reportable"]), incident_id
        assert to_resolve == pytest.approx(want["seconds_to_resolve"]), incident_id
        assert to_ack == pytest.approx(want["seconds_to_acknowledge"]), incident_id


def test_mttr_by_month_and_severity_matches_the_reference(loaded):
    db, incidents, _ = loaded
    expected = reference.mttr_by_month_and_severity(incidents, as_of())
    rows = query(
        db,
        "select month, dimension_id, n, n_missing, p50_seconds, p90_seconds from reliability.mttx_monthly "
        "where metric = 'resolve' and dimension in ('severity', 'all')",
    )
    actual = {
        (month, dim): {"n": n, "n_missing": missing, "p50_seconds": p50, "p90_seconds": p90}
        for month, dim, n, missing, p50, p90 in rows
    }
    assert set(actual) == set(expected)
    for key, want in expected.items():
        got = actual[key]
        assert (got["n"], got["n_missing"]) == (want["n"], want["n_missing"]), key
        assert got["p50_seconds"] == pytest.approx(want["p50_seconds"]), key
        assert got["p90_seconds"] == pytest.approx(want["p90_seconds"]), key


def test_open_backlog_matches_the_reference(loaded):
    db, incidents, _ = loaded
    expected = reference.open_backlog_counts(incidents, as_of())
    assert expected["all"] > 0
    actual = dict(query(db, "select severity, n_open from reliability.open_incident_backlog"))
    assert actual == expected


def test_invariants_on_simulator_data(loaded):
    db, _, _ = loaded
    assert query(
        db, "select count(*) from reliability.mttx_monthly where p50_seconds > p90_seconds"
    ) == [(0,)]
    assert query(
        db,
        "select count(*) from reliability.service_reliability_monthly "
        "where availability_pct < 0 or availability_pct > 100",
    ) == [(0,)]
    assert query(
        db,
        "select count(*) from reliability.incident_facts where seconds_to_detect < 0 "
        "or seconds_to_acknowledge < 0 or seconds_to_mitigate < 0 or seconds_to_resolve < 0 "
        "or impact_seconds < 0",
    ) == [(0,)]
    # an incident with two services counts in each, and once in `all`
    assert query(
        db,
        """
        select count(*) from (
            select month, sum(incidents_started) filter (where dimension = 'all') as total,
                   sum(incidents_started) filter (where dimension = 'service') as by_service
            from reliability.incident_volume_monthly group by month
        ) t where total > by_service
        """,
    ) == [(0,)]
    # the simulator's data has multi-service incidents, so the service sum really is larger
    assert query(
        db,
        """
        select count(*) > 0 from (
            select month, sum(incidents_started) filter (where dimension = 'all') as total,
                   sum(incidents_started) filter (where dimension = 'service') as by_service
            from reliability.incident_volume_monthly group by month
        ) t where by_service > total
        """,
    ) == [(True,)]


def test_weighted_availability_matches_the_reference(loaded):
    db, incidents, maintenances = loaded
    # the simulator's data has every kind of condition, overlaps and maintenances
    assert query(db, "select count(distinct weight) >= 3 from reliability.service_impact_intervals") == [(True,)]
    assert query(db, "select count(*) > 0 from reliability.service_downtime_pieces where weight < 0") == [(True,)]
    assert_availability_matches(lambda sql: query(db, sql), incidents, maintenances, as_of())
