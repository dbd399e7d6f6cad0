"""Brings report tables to the shapes the HTML report reads, where the report SQL does not build them yet.

The HTML report reads every table and column of the metric definitions; some are produced by
report SQL that is written separately (`followup_monthly`, `alert_noise_weekly`, new columns of
`service_reliability_monthly` and `responder_load_monthly`). So that the report tests exercise
every chart either way, this adds what is missing, with small deterministic hand-made rows,
and leaves whatever the SQL already built untouched.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from incident_assets.reliability.html_report import ReportReader, report_table

TEAMS = (("team-core", "Core"), ("team-web", "Web"))
ALERT_WEEKS = 10


def add_missing_columns(sql: Any, reader: ReportReader, table: str, fills: dict[str, tuple[str, str]]) -> None:
    """Adds each missing column (name -> (SQL type, SQL expression over the existing columns))."""
    existing = reader.existing_columns().get(table, set())
    for column, (sql_type, expression) in fills.items():
        if column not in existing:
            sql.execute_sql(f"alter table {report_table(table)} add column {column} {sql_type}")
            sql.execute_sql(f"update {report_table(table)} set {column} = {expression}")


def followup_rows(as_of: datetime, months: list[date]) -> list[tuple]:
    """One 'all' row per month: recent months keep more items open, half of the open ones overdue."""
    rows = []
    for i, month in enumerate(months):
        created = 3 + (i * 7) % 5
        cancelled = i % 2
        open_now = min(created - cancelled, (len(months) - i) // 2)
        done = created - cancelled - open_now
        rows.append((as_of, month, "all", created, done, cancelled, open_now, open_now // 2, 2.5 if done else None))
    return rows


def alert_rows(as_of: datetime) -> list[tuple]:
    """Alerts of two teams and of all teams over the weeks (Mondays) before as_of."""
    this_monday = as_of.date() - timedelta(days=as_of.weekday())
    rows = []
    for i in range(ALERT_WEEKS):
        week = this_monday - timedelta(weeks=ALERT_WEEKS - 1 - i)
        per_team = []
        for t, (team_id, team_name) in enumerate(TEAMS):
            alerts = 5 + (i * 3 + t * 4) % 9
            linked, sleep = alerts // (2 + t), alerts // 5
            business = alerts // 2
            per_team.append((week, team_id, team_name, alerts, linked, business, alerts - business - sleep, sleep))
        total = [sum(r[k] for r in per_team) for k in range(3, 8)]
        per_team.append((week, "all", "all", *total))
        rows += [(*r[:5], 100 * r[4] / r[3], *r[5:], 12.5) for r in per_team]
    return rows


def sql_value(value: Any) -> str:
    """A Python value as a SQL literal (the rows here are ours, never user input)."""
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return f"cast('{value.isoformat(sep=' ')}' as timestamp with time zone)"
    if isinstance(value, date):
        return f"cast('{value.isoformat()}' as date)"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def create_table(sql: Any, table: str, columns: str, rows: list[tuple]) -> None:
    """Creates a report table and inserts the rows."""
    sql.execute_sql(f"create table {report_table(table)} ({columns})")
    for row in rows:
        sql.execute_sql(f"insert into {report_table(table)} values ({', '.join(sql_value(v) for v in row)})")


def complete_report_shapes(sql: Any, with_rows: bool = True) -> list[str]:
    """Adds the tables and columns the report reads that are not built, the new tables with hand-made
    rows (or empty, `with_rows=False`); returns what it added."""
    reader = ReportReader(sql)
    existing = reader.existing_columns()
    added = [t for t in ("followup_monthly", "alert_noise_weekly") if t not in existing]
    added += [f"{t}.{c}" for t, c in (("service_reliability_monthly", "incident_minutes"),
                                      ("responder_load_monthly", "effort_hours")) if c not in existing.get(t, ())]
    add_missing_columns(sql, reader, "service_reliability_monthly", {
        "incident_minutes": ("double precision", "impact_minutes"),
        "maintenance_minutes": ("double precision", "0"),
    })
    add_missing_columns(sql, reader, "responder_load_monthly", {
        "business_hours": ("bigint", "incidents - incidents_off_hours"),
        "off_hours": ("bigint", "incidents_off_hours"),
        "sleep_hours": ("bigint", "0"),
        "effort_hours": ("double precision", "1.5 * incidents"),
    })
    as_of = reader.rows(f"select max(as_of) as as_of from {report_table('incident_facts')}")[0]["as_of"]
    if "followup_monthly" in added:
        months = [r["month"] for r in reader.rows(f"select distinct month from "
                                                  f"{report_table('incident_volume_monthly')} order by month")]
        create_table(sql, "followup_monthly",
                     "as_of timestamp with time zone, month date, severity varchar, created bigint, done bigint, "
                     "cancelled bigint, open_now bigint, overdue_now bigint, p50_days_to_done double precision",
                     followup_rows(as_of, months) if with_rows else [])
    if "alert_noise_weekly" in added:
        create_table(sql, "alert_noise_weekly",
                     "week date, team_id varchar, team_name varchar, alerts bigint, linked_to_incident bigint, "
                     "linked_pct double precision, business_hours bigint, off_hours bigint, sleep_hours bigint, "
                     "p50_minutes double precision",
                     alert_rows(as_of) if with_rows else [])
    return added
