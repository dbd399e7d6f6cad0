"""The demo's story, end to end: the simulator's default data (2,000 incidents, seed 7) loaded
through the project and reported as of its anchor shows one service whose MTTR got worse in
October 2026 and one whose MTTR got better, and `mttx_regression` fails on it. The numbers are
checked against a Mann-Whitney test computed here in Python from the records the API served."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import pytest

from incident_assets.defs.incident_api.assets import incident_api_assets
from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.defs.reliability.checks import report_checks
from incident_assets.simulator import Simulator
from incident_assets_tests import reliability_reference as reference
from incident_assets_tests.conftest import point_project_at
from incident_assets_tests.ingestion import materialize, query

ANCHOR = "2026-11-01T00:00:00Z"
RECENT, BASELINE_START = date(2026, 10, 1), date(2026, 7, 1)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[dict], dict[str, dg.AssetCheckEvaluation]]:
    db = tmp_path_factory.mktemp("demo_story") / "incidents.duckdb"
    with Simulator(incidents=2000, seed=7) as sim, pytest.MonkeyPatch.context() as mp:
        point_project_at(mp, sim, db)
        result = materialize([incident_api_assets, *report_assets, *report_checks],
                             run_config=report_run_config(as_of=ANCHOR))
        assert result.success
        incidents = sim.records("incidents")
    return db, incidents, {e.check_name: e for e in result.get_asset_check_evaluations()}


def mann_whitney_z(recent: list[float], baseline: list[float]) -> float:
    """z of U with mid-ranks and the tie-corrected variance, written out independently of the SQL."""
    pooled = sorted([(v, True) for v in recent] + [(v, False) for v in baseline])
    ranks: dict[float, float] = {}
    ties: dict[float, int] = defaultdict(int)
    for v, _ in pooled:
        ties[v] += 1
    position = 0
    for v in sorted(ties):
        ranks[v] = position + (ties[v] + 1) / 2
        position += ties[v]
    n_r, n_b = len(recent), len(baseline)
    n = n_r + n_b
    u = sum(ranks[v] for v in recent) - n_r * (n_r + 1) / 2
    variance = n_r * n_b / 12 * ((n + 1) - sum(t ** 3 - t for t in ties.values()) / (n * (n - 1)))
    return (u - n_r * n_b / 2) / math.sqrt(variance)


def resolve_durations(incidents: list[dict], service: str) -> tuple[list[float], list[float]]:
    """The service's resolve durations of reportable incidents started in October and in July-September."""
    as_of = datetime(2026, 11, 1, tzinfo=timezone.utc)
    recent, baseline = [], []
    for incident in incidents:
        if service not in {s["name"] for s in incident["services"]}:
            continue
        fact = reference.facts(incident, as_of)
        if not fact["is_reportable"] or fact["seconds_to_resolve"] is None:
            continue
        month = reference.month_of(fact["started_at"])
        if month == RECENT:
            recent.append(fact["seconds_to_resolve"])
        elif BASELINE_START <= month < RECENT:
            baseline.append(fact["seconds_to_resolve"])
    return recent, baseline


def test_one_service_worse_one_better(demo):
    db, incidents, _ = demo
    changed = query(db, "select verdict, dimension, dimension_name, metric from reliability.mttx_change "
                        "where verdict in ('worse', 'better') order by verdict desc, dimension, dimension_name")
    # cdn-edge is half of its owner team Mobile's October incidents: the team's MTTR follows it
    assert changed == [("worse", "service", "fraud-detection", "resolve"),
                       ("better", "service", "cdn-edge", "resolve"), ("better", "team", "Mobile", "resolve")]


@pytest.mark.parametrize("service, verdict", [("fraud-detection", "worse"), ("cdn-edge", "better")])
def test_the_story_rows_match_an_independent_computation(demo, service, verdict):
    db, incidents, _ = demo
    recent, baseline = resolve_durations(incidents, service)
    (row,) = query(db, "select n_recent, n_baseline, p50_recent_seconds, p50_baseline_seconds, z_score, verdict "
                       f"from reliability.mttx_change where dimension = 'service' and dimension_name = '{service}' "
                       "and metric = 'resolve'")
    expected = (len(recent), len(baseline), reference.percentile(recent, 0.5), reference.percentile(baseline, 0.5),
                mann_whitney_z(recent, baseline), verdict)
    assert row == pytest.approx(expected)
    assert abs(row[4]) >= 1.96 and abs(row[2] / row[3] - 1) >= 0.2


def test_mttx_regression_fails_on_the_demo(demo):
    _, _, checks = demo
    regression = checks["mttx_regression"]
    assert not regression.passed
    assert regression.description.startswith("1 regression: MTTR of service fraud-detection: p50 ")
    assert regression.metadata["regressions"].value == 1
