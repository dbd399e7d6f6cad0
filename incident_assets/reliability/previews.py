"""Markdown previews of each report table's headline rows, for the Dagster UI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from incident_assets.settings import REPORT_SCHEMA

MAX_ROWS = 15
T = f"{REPORT_SCHEMA}."

# headline query per table: what a reviewer looks at first (newest months first)
PREVIEWS: dict[str, str] = {
    "incident_facts": f"select incident_id, number, severity, started_at, resolved_at, seconds_to_resolve, "
                      f"is_open, exclusion_reason from {T}incident_facts order by started_at desc",
    "incident_dimensions": f"select dimension, count(*) as incidents, count(distinct dimension_id) as distinct_values "
                           f"from {T}incident_dimensions group by dimension order by dimension",
    "service_impact_intervals": f"select service_id, count(distinct incident_id) as incidents, "
                                f"count(distinct island_start) as islands, max(island_end) as last_impact_end "
                                f"from {T}service_impact_intervals group by service_id order by service_id",
    "mttx_monthly": f"select month, dimension_id as severity, metric, n, p50_seconds, p90_seconds "
                    f"from {T}mttx_monthly where dimension in ('severity', 'all') and metric in ('acknowledge', "
                    f"'resolve') order by month desc, metric desc, severity",
    "incident_volume_monthly": f"select month, dimension_id as severity, incidents_started, incidents_resolved, "
                               f"open_at_month_end from {T}incident_volume_monthly "
                               f"where dimension in ('severity', 'all') order by month desc, severity",
    "open_incident_backlog": f"select severity, n_open, n_unacknowledged, age_p50_seconds, age_p90_seconds, "
                             f"oldest_incident_id from {T}open_incident_backlog order by severity",
    "service_reliability_monthly": f"select month, service_name, incident_count, impact_minutes, availability_pct, "
                                   f"mtbf_hours from {T}service_reliability_monthly "
                                   f"order by month desc, availability_pct, service_name",
    "slo_error_budget": f"select service_name, slo_target_pct, bad_minutes, budget_consumed_pct, burn_rate, "
                        f"worst_incident_id from {T}slo_error_budget order by budget_consumed_pct desc, service_name",
    "catalog_health": f"select service_name, service_tier, owner_team_name, incidents_last_90d, gap_count "
                      f"from {T}catalog_health order by gap_count desc, service_name",
    "change_failure_monthly": f"select month, n_changes, n_failed_changes, change_failure_rate, restore_p50_seconds "
                              f"from {T}change_failure_monthly where service_id = 'all' order by month desc",
    "retrospective_followthrough_monthly": f"select month, n_resolved, n_completed, completion_rate, "
                                           f"completed_p50_days, n_overdue from "
                                           f"{T}retrospective_followthrough_monthly where severity = 'all' "
                                           f"order by month desc",
    "responder_load_monthly": f"select month, user_name, incidents, incidents_as_commander, business_hours, off_hours, "
                              f"sleep_hours, effort_hours "
                              f"from {T}responder_load_monthly order by month desc, incidents desc, user_name",
    "data_quality_issues": f"select problem, count(*) as incidents, min(incident_id) as example "
                           f"from {T}data_quality_issues group by problem order by incidents desc, problem",
}


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()[:7] if value.day == 1 else value.isoformat()
    return str(value).replace("|", "\\|")


def to_markdown(columns: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def preview_markdown(sql_client: Any, table: str) -> str:
    query = PREVIEWS.get(table, f"select * from {T}{table}")
    with sql_client.execute_query(f"{query} limit {MAX_ROWS + 1}") as cursor:
        columns = [d[0] for d in cursor.description]
        rows = [tuple(r) for r in cursor.fetchall()]
    if not rows:
        return f"`{REPORT_SCHEMA}.{table}` is empty."
    more = f"\n\nFirst {MAX_ROWS} rows." if len(rows) > MAX_ROWS else ""
    return to_markdown(columns, rows[:MAX_ROWS]) + more
