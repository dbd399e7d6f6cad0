"""Golden tests of the report tables (docs/metrics.md) on hand-built inputs.

Expected values are derived by hand from `reliability_inputs.py` (comments there give each
incident's durations). Engine specifics live in the `destination` fixture only.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from pytest import approx

from incident_assets.destination import schema_columns
from incident_assets.reliability.runner import ReportParams, report_tables, run_reports
from incident_assets_tests import postgres
from incident_assets_tests.reliability_inputs import (
    AS_OF, GOLDEN, WEIGHTS, TestDestination, incident, loaded_destination, ms,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def build(dest: TestDestination, **params) -> dict[str, int]:
    with dest.pipeline().sql_client() as sql:
        return {r.name: r.row_count for r in run_reports(sql, ReportParams(**{"as_of": AS_OF, **params}))}


def engine_destination(request, tmp_path_factory, data: dict, name: str) -> Iterator[TestDestination]:
    """`data` loaded and reported on the engine of `request.param`; postgres: a database of its own."""
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = postgres.create_database(server)
    try:
        dest = loaded_destination(request.param, tmp_path_factory.mktemp(f"{name}_{request.param}"), data,
                                  postgres_url=url)
        build(dest)
        yield dest
    finally:
        if url:
            postgres.drop_database(server, url)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def destination(request, tmp_path_factory) -> Iterator[TestDestination]:
    """The golden inputs and expected values on each engine."""
    yield from engine_destination(request, tmp_path_factory, GOLDEN, "golden")


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def weighted(request, tmp_path_factory) -> Iterator[TestDestination]:
    """The impact weights inputs (`WEIGHTS`) on each engine."""
    yield from engine_destination(request, tmp_path_factory, WEIGHTS, "weights")


def one(dest: TestDestination, sql: str) -> tuple:
    rows = dest.query(sql)
    assert len(rows) == 1, rows
    return rows[0]


def norm(row: tuple) -> tuple:
    """Decimals/ints as floats where approx comparison is wanted."""
    return tuple(float(v) if v is not None and not isinstance(v, (str, bool, datetime)) else v for v in row)


# --- incident_facts ---------------------------------------------------------------------------

FACT_COLUMNS = ("seconds_to_detect, seconds_to_acknowledge, seconds_to_mitigate, seconds_to_resolve, "
                "impact_seconds, is_open, has_negative_duration")


@pytest.mark.parametrize("incident_id, expected", [
    ("inc-01", (300, 600, 3600, 7200, 3600, False, False)),
    ("inc-02", (None, 1200, 10800, 14400, 10800, False, False)),  # missing detected
    ("inc-03", (None, 900, None, 10800, 10800, False, False)),  # reopened: last resolved
    ("inc-04", (None, 1800, None, 7200, 7200, False, False)),  # postmortem_started resolves
    ("inc-05", (None, None, 1800, 3600, 1800, False, True)),  # negative ack -> NULL + flag
    ("inc-09", (None, 1800, None, None, None, True, False)),  # open, no mitigation
    ("inc-10", (None, None, 3600, None, 3600, True, False)),  # open but mitigated
    ("inc-11", (None, None, None, 7200, 7200, False, False)),  # started from created_at
    ("inc-13", (None, None, 5400, 3600, 5400, False, False)),  # mitigated after resolved
    ("inc-15", (None, None, None, 1800, 1800, False, False)),  # started from started_at field
])
def test_incident_facts_durations(destination, incident_id, expected):
    row = one(destination, f"select {FACT_COLUMNS} from reliability.incident_facts where incident_id = '{incident_id}'")
    assert norm(row) == approx(tuple(float(v) if isinstance(v, int) and not isinstance(v, bool) else v
                                     for v in expected))


def test_incident_facts_times_and_ages(destination):
    facts = {r[0]: r[1:] for r in destination.query(
        "select incident_id, started_at, resolved_at, age_seconds, as_of from reliability.incident_facts")}
    assert len(facts) == len(GOLDEN["incidents"])
    assert facts["inc-03"][1] == utc("2024-01-25 12:00")  # last of two resolved milestones
    assert facts["inc-04"][1] == utc("2024-02-05 16:00")
    assert facts["inc-11"][0] == utc("2024-01-31 23:00")
    assert facts["inc-15"][0] == utc("2024-02-25 10:00")
    assert facts["inc-09"][2] == approx(432000) and facts["inc-10"][2] == approx(86400)
    assert facts["inc-01"][2] is None  # resolved: no age
    assert {r[3] for r in facts.values()} == {AS_OF}


def test_exclusions(destination):
    rows = dict((r[0], r[1:]) for r in destination.query(
        "select incident_id, is_reportable, is_archived, exclusion_reason, severity from reliability.incident_facts"))
    assert rows["inc-06"] == (False, False, "severity:GAMEDAY", "GAMEDAY")
    assert rows["inc-07"] == (False, True, "archived", "MAINTENANCE")  # archived wins
    assert rows["inc-08"] == (True, False, None, None)  # null severity is reportable
    assert sum(1 for r in rows.values() if r[0]) == 13


def test_incident_dimensions_collapse_duplicates(destination):
    rows = destination.query("select dimension, dimension_id, dimension_name from reliability.incident_dimensions "
                             "where incident_id = 'inc-02' order by 1, 2")
    assert rows == [("environment", "env-prod", "Production"), ("service", "svc-api", "API"),
                    ("service", "svc-web", "Web")]
    assert destination.query("select dimension, dimension_id from reliability.incident_dimensions "
                             "where incident_id = 'inc-01' order by 1") == [
        ("environment", "env-prod"), ("functionality", "fn-checkout"), ("service", "svc-api"), ("team", "team-core")]


# --- mttx_monthly -----------------------------------------------------------------------------

MTTX = ("select n, n_missing, mean_seconds, p50_seconds, p90_seconds, min_seconds, max_seconds "
        "from reliability.mttx_monthly where month = date '{month}' and dimension = '{dim}' "
        "and dimension_id = '{id}' and metric = '{metric}'")


@pytest.mark.parametrize("month, dim, id_, metric, expected", [
    # Jan resolve: 7200, 14400, 10800, 7200 (I11), 5400 -> interpolated p90 = 10800 + 0.6 * 3600
    ("2024-01-01", "all", "all", "resolve", (5, 0, 9000, 7200, 12960, 5400, 14400)),
    ("2024-01-01", "all", "all", "detect", (1, 4, 300, 300, 300, 300, 300)),
    ("2024-01-01", "severity", "SEV1", "resolve", (2, 0, 10800, 10800, 13680, 7200, 14400)),
    ("2024-01-01", "severity", "SEV2", "acknowledge", (2, 0, 750, 750, 870, 600, 900)),
    # empty group: rows exist, n = 0, statistics NULL
    ("2024-01-01", "severity", "SEV2", "detect", (0, 2, None, None, None, None, None)),
    # a two-service incident counts in each service (and once in all, above)
    ("2024-01-01", "service", "svc-api", "resolve", (4, 0, 9450, 9000, 13320, 5400, 14400)),
    ("2024-01-01", "service", "svc-web", "resolve", (1, 0, 14400, 14400, 14400, 14400, 14400)),
    ("2024-01-01", "team", "team-core", "resolve", (1, 0, 7200, 7200, 7200, 7200, 7200)),
    ("2024-02-01", "severity", "none", "resolve", (1, 0, 2400, 2400, 2400, 2400, 2400)),  # null severity (I8)
    ("2024-02-01", "all", "all", "acknowledge", (2, 2, 1200, 1200, 1680, 600, 1800)),  # I5 negative -> missing
    ("2024-02-01", "severity", "SEV1", "acknowledge", (0, 1, None, None, None, None, None)),
    # March: 2 resolved, 2 open (missing)
    ("2024-03-01", "all", "all", "resolve", (2, 2, 2400, 2400, 3360, 1200, 3600)),
])
def test_mttx_values(destination, month, dim, id_, metric, expected):
    row = one(destination, MTTX.format(month=month, dim=dim, id=id_, metric=metric))
    assert norm(row) == approx(tuple(None if v is None else float(v) for v in expected))


def test_mttx_population(destination):
    ids = {r[0] for r in destination.query("select distinct dimension_id from reliability.mttx_monthly "
                                           "where dimension = 'severity'")}
    assert ids == {"SEV1", "SEV2", "SEV3", "none"}  # GAMEDAY / MAINTENANCE excluded, archived excluded
    # unknown service still reported, named as the incident names it
    assert destination.query("select distinct dimension_name from reliability.mttx_monthly "
                             "where dimension_id = 'svc-ghost'") == [("Ghost",)]
    # every (month, value) has all four metrics
    assert destination.query("select count(*) from reliability.mttx_monthly group by month, dimension, "
                             "dimension_id having count(*) <> 4") == []


# --- incident_volume_monthly ------------------------------------------------------------------

@pytest.mark.parametrize("month, dim, id_, expected", [
    ("2024-01-01", "all", "all", (5, 4, 1)),  # I11 open across the Jan/Feb boundary
    ("2024-02-01", "all", "all", (4, 5, 0)),
    ("2024-03-01", "all", "all", (4, 2, None)),  # month not ended at as_of
    ("2024-01-01", "service", "svc-db", (1, 0, 1)),
    ("2024-02-01", "service", "svc-db", (2, 3, 0)),
    ("2024-02-01", "severity", "none", (1, 1, 0)),
])
def test_incident_volume(destination, month, dim, id_, expected):
    row = one(destination, "select incidents_started, incidents_resolved, open_at_month_end "
                           f"from reliability.incident_volume_monthly where month = date '{month}' "
                           f"and dimension = '{dim}' and dimension_id = '{id_}'")
    assert row == expected


# --- open_incident_backlog --------------------------------------------------------------------

def test_open_backlog(destination):
    rows = {r[0]: norm(r[1:]) for r in destination.query(
        "select severity, n_open, n_unacknowledged, age_p50_seconds, age_p90_seconds, age_max_seconds "
        "from reliability.open_incident_backlog")}
    assert rows == {
        "all": approx((2, 1, 259200, 397440, 432000)),
        "SEV1": approx((1, 1, 86400, 86400, 86400)),
        "SEV2": approx((1, 0, 432000, 432000, 432000)),
    }
    assert destination.query("select oldest_incident_id, as_of from reliability.open_incident_backlog "
                             "where severity = 'all'") == [("inc-09", AS_OF)]


# --- service_reliability_monthly --------------------------------------------------------------
# Every golden incident is Unavailable on its services (weight 1) or has no condition (I8, also
# weight 1), and there is no maintenance: impact_minutes = incident_minutes here, and the
# weighted cases are in the WEIGHTS tests further down.

@pytest.mark.parametrize("month, service, expected", [
    # I1 [10:00,11:00) and I12 [10:30,11:30) overlap: 90 min, + I2 180 + I3 180
    ("2024-01-01", "svc-api", (4, 450, 44640, 100 * (1 - 450 / 44640), (44640 - 450) / 60 / 4)),
    ("2024-02-01", "svc-api", (1, 30, 41760, 100 * (1 - 30 / 41760), (41760 - 30) / 60)),
    # current month cut at as_of (14.5 days); I9 open: impact up to as_of
    ("2024-03-01", "svc-api", (1, 7200, 20880, 100 * (1 - 7200 / 20880), (20880 - 7200) / 60)),
    # I11 spans the month boundary: 60 min in each month
    ("2024-01-01", "svc-db", (1, 60, 44640, 100 * (1 - 60 / 44640), (44640 - 60) / 60)),
    ("2024-02-01", "svc-db", (2, 130, 41760, 100 * (1 - 130 / 41760), (41760 - 130) / 60 / 2)),
    ("2024-03-01", "svc-web", (2, 150, 20880, 100 * (1 - 150 / 20880), (20880 - 150) / 60 / 2)),
    ("2024-02-01", "svc-quiet", (0, 0, 41760, 100, None)),
])
def test_service_reliability(destination, month, service, expected):
    row = one(destination, "select incident_count, impact_minutes, month_minutes, availability_pct, mtbf_hours, "
                           "incident_minutes, maintenance_minutes "
                           f"from reliability.service_reliability_monthly where month = date '{month}' "
                           f"and service_id = '{service}'")
    assert norm(row) == approx(expected + (expected[1], 0))


def test_service_reliability_grid(destination):
    # 4 catalog services x Jan..Mar; the unknown service has no catalog row
    assert one(destination, "select count(*), count(distinct service_id), min(month), max(month) "
                            "from reliability.service_reliability_monthly") == (
        12, 4, utc("2024-01-01").date(), utc("2024-03-01").date())
    assert one(destination, "select owner_team_name from reliability.service_reliability_monthly "
                            "where service_id = 'svc-web' and month = date '2024-01-01'") == ("Web",)


# --- slo_error_budget -------------------------------------------------------------------------

@pytest.mark.parametrize("service, expected", [
    # window [Feb 14 12:00, Mar 15 12:00): 43200 min
    ("svc-api", (99.95, 43200, 21.6, 7200, 100 * 7200 / 21.6, (7200 / 43200) / 0.0005, "inc-09", 100 * 7200 / 21.6)),
    ("svc-web", (99.9, 43200, 43.2, 150, 100 * 150 / 43.2, (150 / 43200) / 0.001, "inc-13", 100 * 90 / 43.2)),
    ("svc-db", (99.5, 43200, 216, 90, 100 * 90 / 216, (90 / 43200) / 0.005, "inc-08", 100 * 40 / 216)),
    ("svc-quiet", (99.95, 43200, 21.6, 0, 0, 0, None, None)),
])
def test_slo_error_budget(destination, service, expected):
    row = one(destination, "select slo_target_pct, window_minutes, budget_minutes, bad_minutes, "
                           "budget_consumed_pct, burn_rate, worst_incident_id, worst_incident_budget_pct "
                           f"from reliability.slo_error_budget where service_id = '{service}'")
    assert norm(row) == approx(expected)


# --- catalog_health ---------------------------------------------------------------------------

def test_catalog_health(destination):
    rows = {r[0]: r[1:] for r in destination.query(
        "select service_id, owner_team_name, functionalities, environments_seen, incidents_last_90d, "
        "active_incident_webhooks, gap_no_owner, gap_unknown_owner, gap_no_functionality, gap_quiet_tier1, "
        "gap_no_incident_webhook, gap_count from reliability.catalog_health")}
    assert rows == {
        "svc-api": ("Core", "Checkout", "Production, Staging", 6, 1, False, False, False, False, False, 0),
        "svc-web": ("Web", "Search", "Production", 4, 1, False, False, False, False, False, 0),
        "svc-db": (None, None, None, 4, 1, True, False, True, False, False, 2),
        "svc-quiet": ("Gone", None, None, 0, 1, False, True, True, True, False, 3),
    }


# --- change_failure_monthly -------------------------------------------------------------------

@pytest.mark.parametrize("month, service, expected", [
    ("2024-01-01", "svc-api", (3, 1, 1 / 3, 4, 2, 3600)),
    ("2024-01-01", "svc-db", (1, 1, 1.0, 1, 1, 7200)),
    ("2024-01-01", "svc-web", (0, 0, None, 1, 0, None)),  # incidents but no change
    ("2024-01-01", "all", (3, 2, 2 / 3, 5, 3, 3600)),
    ("2024-02-01", "svc-api", (1, 0, 0.0, 1, 0, None)),  # only an excluded incident followed
    ("2024-02-01", "svc-web", (1, 1, 1.0, 1, 1, 7200)),
    ("2024-02-01", "all", (2, 1, 0.5, 4, 1, 7200)),
])
def test_change_failure(destination, month, service, expected):
    row = one(destination, "select n_changes, n_failed_changes, change_failure_rate, n_incidents, "
                           "n_failure_incidents, restore_p50_seconds from reliability.change_failure_monthly "
                           f"where month = date '{month}' and service_id = '{service}'")
    assert norm(row) == approx(expected)


def test_change_after_as_of_left_out(destination):
    assert destination.query("select count(*) from reliability.change_failure_monthly "
                             "where month = date '2024-03-01' and n_changes > 0") == [(0,)]


# --- retrospective_followthrough_monthly ------------------------------------------------------

@pytest.mark.parametrize("month, severity, expected", [
    ("2024-01-01", "all", (4, 2, 0.5, 8.0, 2, 2)),  # I1 5 days, I3 11 days; I2, I12 overdue
    ("2024-01-01", "SEV1", (2, 1, 0.5, 5.0, 1, 1)),
    ("2024-02-01", "all", (5, 0, 0.0, None, 5, 0)),
    ("2024-02-01", "none", (1, 0, 0.0, None, 1, 0)),
    # I13 resolved Mar 1 11:00: 14 days before as_of minus 1 h -> overdue; I14 completed 26d13h40m later
    ("2024-03-01", "all", (2, 1, 0.5, 26 + 13 / 24 + 40 / 1440, 1, 0)),
])
def test_retrospective_followthrough(destination, month, severity, expected):
    row = one(destination, "select n_resolved, n_completed, completion_rate, completed_p50_days, n_overdue, "
                           "n_with_report from reliability.retrospective_followthrough_monthly "
                           f"where month = date '{month}' and severity = '{severity}'")
    assert norm(row) == approx(expected)


# --- responder_load_monthly -------------------------------------------------------------------

def test_responder_load(destination):
    # hours buckets in UTC (the default); every assignment was created 2024-01-01 00:00, so
    # effort runs from then to the resolution (effort in minutes, to compare exactly)
    rows = destination.query("select cast(month as text), user_id, user_name, incidents, incidents_as_commander, "
                             "business_hours, off_hours, sleep_hours, cast(round(effort_hours * 60) as bigint) "
                             "from reliability.responder_load_monthly order by 1, 2")
    assert rows == [
        # I1 commander (Wed 10:00, 228 h), I2 comms (Sat 22:00: sleep, 482 h)
        ("2024-01-01", "u-alice", "Alice", 2, 1, 1, 0, 1, (228 + 482) * 60),
        ("2024-01-01", "u-bob", "Bob", 1, 1, 0, 0, 1, 482 * 60),  # "Incident Commander" on I2
        # I5 (Sat 10:00: off; to Feb 10 11:00 = 744 + 227 h); the GAMEDAY incident is excluded
        ("2024-02-01", "u-alice", "Alice", 1, 1, 0, 1, 0, 971 * 60),
        ("2024-02-01", "u-bob", "Bob", 1, 1, 1, 0, 0, 72640),  # I8 Tue 10:00; to Feb 20 10:40 = 1210 h 40 min
    ]  # Carol's assignment is inactive


# --- data_quality_issues ----------------------------------------------------------------------

def test_data_quality_issues(destination):
    rows = destination.query("select incident_id, problem, detail from reliability.data_quality_issues "
                             "order by 1, 2")
    assert rows == [
        ("inc-05", "negative_duration", "acknowledged before started"),
        ("inc-08", "missing_impact_condition", "Database"),  # no impact entry at all
        ("inc-11", "missing_started", "started_at from created_at"),
        ("inc-12", "missing_impact_condition", "Ghost"),  # an entry for svc-api only
        ("inc-12", "unknown_service", "Ghost"),  # services by name
        ("inc-13", "milestone_order", "mitigated after resolved"),
        ("inc-14", "future_timestamp", "milestone postmortem_completed"),
        ("inc-15", "missing_started", "started_at from the incident's started_at field"),
    ]


# --- impact weights (the WEIGHTS inputs; comments there describe each incident) ----------------

def test_weight_per_incident_and_service(weighted):
    rows = weighted.query("select incident_id, service_id, impact_entries, weight "
                          "from reliability.service_impact_intervals order by 1, 2")
    assert [norm(r) for r in rows] == [
        ("inc-21", "svc-pay", 1, approx(0.3)),  # Partially Unavailable; Search and environment entries ignored
        ("inc-22", "svc-pay", 1, 1.0),  # "  unAVAILABLE " at position 3: the name wins
        ("inc-23", "svc-pay", 3, 1.0),  # Degraded 0, Limping 0.3, Totally Down 1.0: the highest
        ("inc-24", "svc-pay", 1, approx(0.3)),
        ("inc-25", "svc-search", 1, 0.0),  # Cosmetic, position 5: 0
        ("inc-26", "svc-mail", 1, 1.0),
        ("inc-26", "svc-search", 0, 1.0),  # listed without an entry: counted as an outage
        ("inc-27", "svc-auth", 1, approx(0.3)),
        ("inc-28", "svc-auth", 1, 0.0),  # Degraded
        ("inc-29", "svc-pay", 1, 0.0),  # Degraded
        ("inc-30", "svc-pay", 1, approx(0.3)),
    ]


RELIABILITY = ("select incident_count, incident_minutes, impact_minutes, maintenance_minutes, month_minutes, "
               "availability_pct, mtbf_hours from reliability.service_reliability_monthly "
               "where month = date '{month}' and service_id = '{service}'")


@pytest.mark.parametrize("month, service, expected", [
    # Payments, Feb (41760 min), incidents W1..W4:
    #   Feb 5: W1 0.3 on [10:00, 12:00), W2 1.0 on [11:00, 11:30): the highest counts at each instant:
    #     60 x 0.3 + 30 x 1.0 + 30 x 0.3 = 57 (levels: 0.3 x 120 + 0.7 x 30); incident minutes 120
    #   Feb 20: W3 1.0 on [08:00, 10:00), maintenance from 09:00: 60 x 1.0 = 60; incident minutes 120
    #   Feb 25: W4 [10:00, 11:00) inside maintenance [09:00, 12:00): 0; incident minutes 60
    #   maintenance: M1 + M1b overlap, [09:00, 13:00) = 240, M2 180; M3 (no end) and M4 (environment)
    #   cover nothing: 420
    ("2024-02-01", "svc-pay", (4, 300, 117, 420, 41760, 100 * (1 - 117 / 41760), (41760 - 117) / 60 / 4)),
    # Payments, Mar up to as_of (20880 min): W9 240 min at 0, W10 300 min at 0.3 = 90
    ("2024-03-01", "svc-pay", (2, 540, 90, 0, 20880, 100 * (1 - 90 / 20880), (20880 - 90) / 60 / 2)),
    # Search, Feb: W5 [10:00, 12:00) at 0 and W6 [11:00, 11:30) at 1 (no condition): union 120, weighted 30
    ("2024-02-01", "svc-search", (2, 120, 30, 0, 41760, 100 * (1 - 30 / 41760), (41760 - 30) / 60 / 2)),
    # Mail, Feb: W6 Unavailable, 30 min
    ("2024-02-01", "svc-mail", (1, 30, 30, 0, 41760, 100 * (1 - 30 / 41760), (41760 - 30) / 60)),
    # Auth: W7 open since Jan 20 00:00 at 0.3 (W8 at 0 adds nothing): Jan 12 days = 17280 min,
    # 5184 weighted; Feb whole, 0.3 x 41760 = 12528, and no incident started (mtbf NULL);
    # Mar to as_of 20880, 6264, W8 started
    ("2024-01-01", "svc-auth", (1, 17280, 5184, 0, 44640, 100 * (1 - 5184 / 44640), (44640 - 5184) / 60)),
    ("2024-02-01", "svc-auth", (0, 41760, 12528, 0, 41760, 70, None)),
    ("2024-03-01", "svc-auth", (1, 20880, 6264, 0, 20880, 70, (20880 - 6264) / 60)),
])
def test_weighted_availability(weighted, month, service, expected):
    assert norm(one(weighted, RELIABILITY.format(month=month, service=service))) == approx(expected)


@pytest.mark.parametrize("service, expected", [
    # window [Feb 14 12:00, Mar 15 12:00). Payments (tier 1, budget 21.6): W3 60 + W4 0 + W9 0 +
    # W10 90 = 150. Worst by weighted minutes of its own: W10 (300 x 0.3 = 90), not W9 (the
    # longest, weight 0) nor W3 (120 x 1.0, but 60 of them under maintenance).
    ("svc-pay", (21.6, 150, 100 * 150 / 21.6, (150 / 43200) / 0.0005, "inc-30", 100 * 90 / 21.6)),
    # Auth (tier 2, budget 43.2): W7 at 0.3 over the whole window, 12960; W8 weighs 0
    ("svc-auth", (43.2, 12960, 100 * 12960 / 43.2, (12960 / 43200) / 0.001, "inc-27", 100 * 12960 / 43.2)),
    # Search: its incidents are before the window
    ("svc-search", (43.2, 0, 0, 0, None, None)),
])
def test_weighted_error_budget(weighted, service, expected):
    row = one(weighted, "select budget_minutes, bad_minutes, budget_consumed_pct, burn_rate, worst_incident_id, "
                        f"worst_incident_budget_pct from reliability.slo_error_budget where service_id = '{service}'")
    assert norm(row) == approx(expected)


def test_weights_data_quality(weighted):
    assert weighted.query("select incident_id, problem, detail from reliability.data_quality_issues "
                          "order by 1, 2") == [
        ("inc-26", "missing_impact_condition", "Search"),
        # open since Jan 20 00:00: 55 days 12 hours before as_of; W8 (1 day) is not stale
        ("inc-27", "stale_open", "open for 55 days"),
    ]


def test_configured_weights_replace_the_defaults(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, WEIGHTS)
    build(dest, impact_weights={"partially unavailable": 1.0, "it's down": 0.5})
    # the map replaces the default one: W1 (Partially Unavailable) weighs 1.0 and W2 ("unavailable",
    # now unknown, position 3) 0: Feb 5 gives 120; W3 still 60 (Totally Down, position 0); W4 0
    assert norm(one(dest, RELIABILITY.format(month="2024-02-01", service="svc-pay")))[:4] == (4, 300, approx(180), 420)
    # W7 (Partially Unavailable) is now a full outage all February
    assert norm(one(dest, RELIABILITY.format(month="2024-02-01", service="svc-auth")))[2] == approx(41760)


def test_every_column_is_described(destination):
    """The `columns:` list of each SQL file's header is the created table's columns, in order."""
    with destination.pipeline().sql_client() as sql:
        created = schema_columns(sql, "reliability")
    for name, table in report_tables().items():
        assert [c for c, _ in table.columns] == [c for c, _ in created[name]], name


# --- parameters and missing relations ---------------------------------------------------------

def test_parameters_change_the_results(tmp_path):
    dest = loaded_destination("duckdb", tmp_path)
    # as_of before any incident: the backlog still has its 'all' row, empty
    build(dest, as_of=utc("2023-12-01 00:00"), excluded_severities=(), slo_targets={},
          slo_default_target_pct=99.0, change_window=timedelta(days=3))
    assert norm(one(dest, "select n_open, n_unacknowledged, age_p50_seconds, age_p90_seconds, age_max_seconds, "
                          "oldest_incident_id from reliability.open_incident_backlog")) == (0, 0, None, None, None, None)
    # no exclusions left but archived; every tier gets the default target
    assert dest.query("select count(*) from reliability.incident_facts where is_reportable") == [(14,)]
    assert dest.query("select distinct slo_target_pct from reliability.slo_error_budget") == [(99.0,)]
    build(dest, as_of=utc("2024-03-10 13:00"), change_window=timedelta(days=4))
    # I9 open: its impact is cut at as_of (60 min), plus I5 (30 min, Feb 10, inside the window)
    assert norm(one(dest, "select bad_minutes, worst_incident_id from reliability.slo_error_budget "
                          "where service_id = 'svc-api'")) == (approx(90), "inc-09")
    # with 4 days, ch2 (Jan 22 00:00) is followed by I3 (Jan 25 09:00)
    assert one(dest, "select n_failed_changes from reliability.change_failure_monthly "
                     "where month = date '2024-01-01' and service_id = 'svc-api'") == (2,)


def test_missing_tables_and_columns(tmp_path):
    # one bare incident: no child tables but milestones, no catalog at all
    bare = incident(1, None, "2024-03-01 10:00", [ms("resolved", "2024-03-01 11:00")], [])
    dest = loaded_destination("duckdb", tmp_path, {"incidents": [bare]})
    counts = build(dest)
    assert counts["incident_facts"] == 1 and counts["slo_error_budget"] == 0
    assert dest.query("select seconds_to_resolve, is_reportable from reliability.incident_facts") == [(3600.0, True)]
    assert one(dest, "select n from reliability.mttx_monthly where dimension = 'all' and metric = 'resolve'") == (1,)
