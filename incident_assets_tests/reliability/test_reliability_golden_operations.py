"""Golden tests of the hours of the day, responder load, follow-ups and alert noise.

Inputs and the local time of each record: `reliability_inputs_operations.py`. Reports run in
Europe/Berlin, on DuckDB and PostgreSQL alike (the `destination` fixture holds the engine).
"""

from __future__ import annotations

import re
from typing import Iterator

import dagster as dg
import pytest
from pytest import approx

from incident_assets.defs.reliability.assets import report_assets, report_run_config
from incident_assets.reliability.runner import HOURS_OF_WEEK, ReportParams, ReportSqlError, run_reports
from incident_assets_tests import postgres
from incident_assets_tests.ingestion import materialize
from incident_assets_tests.reliability_inputs import TestDestination, loaded_destination
from incident_assets_tests.reliability_inputs_operations import AS_OF_OPS, AS_OF_OPS_ISO, OPERATIONS, TIMEZONE


def build(dest: TestDestination, **params) -> dict[str, int]:
    defaults = {"as_of": AS_OF_OPS, "timezone": TIMEZONE}
    with dest.pipeline().sql_client() as sql:
        return {r.name: r.row_count for r in run_reports(sql, ReportParams(**{**defaults, **params}))}


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def destination(request, tmp_path_factory) -> Iterator[TestDestination]:
    """The same inputs and expected values on each engine; postgres: a database of its own."""
    url = None
    if request.param == "postgres":
        server = request.getfixturevalue("postgres_server")
        url = postgres.create_database(server)
    try:
        dest = loaded_destination(request.param, tmp_path_factory.mktemp(f"operations_{request.param}"),
                                  OPERATIONS, postgres_url=url)
        build(dest)
        yield dest
    finally:
        if url:
            postgres.drop_database(server, url)


def floats(rows: list[tuple]) -> list[tuple]:
    """Numbers as floats (PostgreSQL returns some as Decimal), text as is."""
    return [tuple(v if v is None or isinstance(v, str) else float(v) for v in row) for row in rows]


# --- the hours of the week -------------------------------------------------------------------

def test_hours_of_week(destination):
    # business 5 days x 10 h; off 5 x 4 h (18-22) + 2 x 14 h (08-22); sleep 7 x 10 h (22-08)
    assert destination.query(f"select bucket, count(*) from {HOURS_OF_WEEK} as w group by bucket "
                             "order by bucket") == [("business", 50), ("off", 48), ("sleep", 70)]
    edges = destination.query(f"select day_of_week, hour, bucket from {HOURS_OF_WEEK} as w where "
                              "(day_of_week, hour) in ((1, 7), (1, 8), (5, 17), (5, 18), (5, 21), (5, 22), "
                              "(6, 8), (7, 21)) order by 1, 2")
    assert edges == [(1, 7, "sleep"), (1, 8, "business"), (5, 17, "business"), (5, 18, "off"),
                     (5, 21, "off"), (5, 22, "sleep"), (6, 8, "off"), (7, 21, "off")]


# --- responder_load_monthly -------------------------------------------------------------------

def test_responder_load_in_berlin(destination):
    rows = destination.query(
        "select cast(month as text), user_id, user_name, incidents, incidents_as_commander, business_hours, "
        "off_hours, sleep_hours, effort_hours from reliability.responder_load_monthly order by 1, 2")
    assert floats(rows) == [approx(row) for row in [
        # O41 business (2.75 h, commander via one of two roles), O42 off (1 h), O43 sleep (0 h:
        # assigned after the resolution); the GAMEDAY O49 is not reportable. Name from users.
        ("2024-03-01", "u-dana", "Dana Doe", 3, 1, 1, 1, 1, 2.75 + 1 + 0),
        # O44 08:30 CEST on the day DST began: off; 1 h (inactive assignment ignored). Name from
        # the assignment: Eve is not in the users endpoint.
        ("2024-03-01", "u-eve", "Eve A.", 1, 0, 0, 1, 0, 1.0),
        # O45 open, sleep, 13 h up to as_of; O46 07:30 CET after DST ended: sleep, 1.25 h
        ("2024-10-01", "u-dana", "Dana Doe", 2, 2, 0, 0, 2, 13 + 1.25),
        ("2024-10-01", "u-eve", "Eve A.", 1, 0, 1, 0, 0, 0.5),  # O47 08:30 CEST: business
    ]]


# --- followup_monthly -------------------------------------------------------------------------

FOLLOWUP_COLUMNS = "created, done, cancelled, open_now, overdue_now, p50_days_to_done"


@pytest.mark.parametrize("month, severity, expected", [
    # t-01 (2 d), t-02 (6 d) done, t-03 cancelled: p50 (2 + 6) / 2
    ("2024-03-01", "SEV1", (3, 2, 1, 0, 0, 4.0)),
    # t-04 open, due Apr 1 < as_of: overdue; t-09 done in 3 d (created Mar 31 23:30 UTC: March)
    ("2024-03-01", "SEV2", (2, 1, 0, 1, 1, 3.0)),
    # t-05 no incident (due Dec 1: not overdue), t-06 unknown incident (no due), t-07 incident
    # without severity, done in 1.5 d
    ("2024-03-01", "none", (3, 1, 0, 2, 0, 1.5)),
    # 8 follow-ups (the task t-08 is left out); done days 1.5, 2, 3, 6: p50 (2 + 3) / 2
    ("2024-03-01", "all", (8, 4, 1, 3, 1, 2.5)),
    ("2024-10-01", "SEV1", (1, 0, 0, 1, 0, None)),  # t-10 due exactly at as_of: not overdue; none done
    ("2024-10-01", "none", (1, 0, 0, 1, 1, None)),  # t-11 in progress, due Oct 15
    ("2024-10-01", "all", (2, 0, 0, 2, 1, None)),
])
def test_followup_monthly(destination, month, severity, expected):
    rows = destination.query(f"select {FOLLOWUP_COLUMNS} from reliability.followup_monthly "
                             f"where month = date '{month}' and severity = '{severity}'")
    assert floats(rows) == [approx(expected)]


def test_followup_rows_exist_for_months_with_followups_only(destination):
    # no row from April to September; t-12 (November) was created after as_of
    rows = destination.query("select cast(month as text), severity, cast(as_of as text) "
                             "from reliability.followup_monthly order by 1, 2")
    assert [r[:2] for r in rows] == [
        ("2024-03-01", "SEV1"), ("2024-03-01", "SEV2"), ("2024-03-01", "all"), ("2024-03-01", "none"),
        ("2024-10-01", "SEV1"), ("2024-10-01", "all"), ("2024-10-01", "none"),
    ]
    assert {r[2][:19] for r in rows} == {"2024-11-01 12:00:00"}


# --- alert_noise_weekly -----------------------------------------------------------------------

ALERT_COLUMNS = ("team_name, alerts, linked_to_incident, linked_pct, business_hours, off_hours, sleep_hours, "
                 "p50_minutes")


@pytest.mark.parametrize("week, team_id, expected", [
    # a-01 (Mon 00:00, sleep, 10 min, linked), a-02 (Sun 23:59, sleep, no end), a-03 (01:30 CET,
    # sleep, 30 min), a-04 (08:30 CEST, off, 60 min, two incidents: linked once)
    ("2024-03-25", "team-core", ("Core", 4, 2, 50.0, 0, 1, 3, 30.0)),
    ("2024-03-25", "none", ("none", 1, 0, 0.0, 1, 0, 0, 20.0)),  # a-05 Wed 08:30 CET: business
    # minutes 10, 20, 30, 60: p50 (20 + 30) / 2
    ("2024-03-25", "all", ("all", 5, 2, 40.0, 1, 1, 3, 25.0)),
    ("2024-04-01", "team-core", ("Core", 1, 1, 100.0, 0, 0, 1, None)),  # a-06: no end, no p50
    ("2024-04-01", "all", ("all", 1, 1, 100.0, 0, 0, 1, None)),
    # a-07 off (18:30 CEST, 15 min), a-08 business (5 min, linked), a-09 02:30 CEST sleep (no
    # end), a-10 07:30 CET sleep (60 min): p50 of 5, 15, 60
    ("2024-10-21", "team-web", ("Web team", 4, 1, 25.0, 1, 1, 2, 15.0)),
    ("2024-10-21", "none", ("none", 1, 1, 100.0, 0, 0, 1, 10.0)),  # a-11 Sat 22:30 CEST: sleep
    ("2024-10-21", "all", ("all", 5, 2, 40.0, 1, 1, 3, 12.5)),  # 5, 10, 15, 60: (10 + 15) / 2
])
def test_alert_noise_weekly(destination, week, team_id, expected):
    rows = destination.query(f"select {ALERT_COLUMNS} from reliability.alert_noise_weekly "
                             f"where week = date '{week}' and team_id = '{team_id}'")
    assert floats(rows) == [approx(expected)]


def test_alert_rows_exist_for_weeks_with_alerts_only(destination):
    # a-12 has no starts_at: in no week
    assert destination.query("select cast(week as text), team_id from reliability.alert_noise_weekly "
                             "order by 1, 2") == [
        ("2024-03-25", "all"), ("2024-03-25", "none"), ("2024-03-25", "team-core"),
        ("2024-04-01", "all"), ("2024-04-01", "team-core"),
        ("2024-10-21", "all"), ("2024-10-21", "none"), ("2024-10-21", "team-web"),
    ]


def test_utc_buckets_differ(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, OPERATIONS)
    build(dest, timezone="UTC")
    # in UTC, all five alerts of the week of Mar 25 start between 22:00 and 08:00
    assert dest.query("select business_hours, off_hours, sleep_hours from reliability.alert_noise_weekly "
                      "where week = date '2024-03-25' and team_id = 'all'") == [(0, 0, 5)]
    # O44 Sun 06:30 UTC: sleep (08:30 in Berlin: off)
    assert dest.query("select business_hours, off_hours, sleep_hours from reliability.responder_load_monthly "
                      "where month = date '2024-03-01' and user_id = 'u-eve'") == [(0, 0, 1)]


def test_bad_timezone_parameter_fails_before_sql(tmp_path):
    dest = loaded_destination("duckdb", tmp_path, OPERATIONS)
    with pytest.raises(ReportSqlError, match=r"^timezone='Mars/Olympus' is not an IANA timezone"):
        build(dest, timezone="Mars/Olympus")
    assert dest.query("select count(*) from information_schema.tables where table_schema = 'reliability'") == [(0,)]


# --- the timezone under Dagster ---------------------------------------------------------------

@pytest.fixture
def operations_env(tmp_path, monkeypatch) -> TestDestination:
    dest = loaded_destination("duckdb", tmp_path, OPERATIONS)
    for key, value in dest.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("INCIDENT_ASSETS_AS_OF", raising=False)
    return dest


def run_config(**config) -> dict:
    return report_run_config(as_of=AS_OF_OPS_ISO, **config)


def failure_message(result: dg.ExecuteInJobResult) -> str:
    assert not result.success
    return result.get_step_failure_events()[0].step_failure_data.error.message


def test_bad_timezone_env_fails_with_one_sentence(operations_env, monkeypatch):
    monkeypatch.setenv("INCIDENT_ASSETS_TIMEZONE", "Mars/Olympus")
    result = materialize([*report_assets], run_config=run_config(), raise_on_error=False)
    assert re.search(r"INCIDENT_ASSETS_TIMEZONE='Mars/Olympus' is not an IANA timezone "
                     r"\(e\.g\. 'UTC', 'Europe/Berlin'\)", failure_message(result))
    # before any SQL: not even the report schema's tables exist
    assert operations_env.query("select count(*) from information_schema.tables "
                                "where table_schema = 'reliability'") == [(0,)]


def test_bad_timezone_config_names_the_key(operations_env):
    result = materialize([*report_assets], run_config=run_config(timezone="Europe"), raise_on_error=False)
    assert re.search(r"run config timezone='Europe' is not an IANA timezone", failure_message(result))


def test_timezone_config_wins_over_env(operations_env, monkeypatch):
    monkeypatch.setenv("INCIDENT_ASSETS_TIMEZONE", "Mars/Olympus")
    selected = ["incident_facts", "responder_load_monthly"]
    result = materialize([*report_assets], run_config=report_run_config(selected, as_of=AS_OF_OPS_ISO, timezone=TIMEZONE),
                         selection=[f"reliability/{t}" for t in selected])
    assert result.success
    # O44 08:30 CEST: off in Berlin (sleep in UTC, see test_utc_buckets_differ)
    assert operations_env.query("select business_hours, off_hours, sleep_hours from "
                                "reliability.responder_load_monthly where month = date '2024-03-01' "
                                "and user_id = 'u-eve'") == [(0, 1, 0)]


def test_timezone_from_env(operations_env, monkeypatch):
    monkeypatch.setenv("INCIDENT_ASSETS_TIMEZONE", TIMEZONE)
    assert materialize([*report_assets], run_config=report_run_config(["alert_noise_weekly"], as_of=AS_OF_OPS_ISO),
                       selection=["reliability/alert_noise_weekly"]).success
    assert operations_env.query("select business_hours, off_hours, sleep_hours from reliability.alert_noise_weekly "
                                "where week = date '2024-03-25' and team_id = 'all'") == [(1, 1, 3)]
