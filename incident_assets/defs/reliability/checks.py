"""Regressions as asset checks on the report assets (docs/metrics.md, "Uncertainty and change").

Each check is keyed by its report asset's key and has no automation condition of its own, so it
runs whenever that asset is materialized: by `materialize`, by any job selecting the asset and in
the runs the automation sensor launches. Severity WARN: a worse month must not stop the data.
The four are one multi-asset check (one step, one connection, whichever of them a run selects):
a step per check would cost a process start each in a multiprocess run.
A failed check says what got worse and by how much in its description; its metadata carries the
numbers and the offending rows. With `INCIDENT_ASSETS_ALERT_WEBHOOK_URL` set, a check that starts
failing or recovers posts to that webhook (`alerts.py`).
"""

from typing import Any, Callable, Iterator, Mapping, Sequence

import dagster as dg

from incident_assets.destination import DESTINATION_POOL, DestinationResource
from incident_assets.defs.reliability.alerts import announce_transition
from incident_assets.reliability.changes import change_record, change_sentence, duration_text
from incident_assets.reliability.html.reader import ReportReader, report_table
from incident_assets.defs.reliability.previews import to_markdown
from incident_assets.defs.reliability.report_config import ReportSettings

MAX_LISTED = 10  # offending rows named in a description; the metadata lists them all (up to 100)
MAX_ROWS = 100


def report_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["reliability", table])


def result(table: str, check_name: str, failing: Sequence[Mapping[str, Any]],
           sentence: Callable[[Mapping[str, Any]], str], ok: str, nouns: tuple[str, str],
           metadata: Mapping[str, Any]) -> dg.AssetCheckResult:
    """The check's result (WARN when rows fail).
    `nouns`: what a failing row is, singular and plural (the plural also names the count's metadata)."""
    sentences = [sentence(r) for r in failing]
    description = "; ".join(sentences[:MAX_LISTED]) + (
        f"; and {len(sentences) - MAX_LISTED} more" if len(sentences) > MAX_LISTED else "")
    return dg.AssetCheckResult(
        asset_key=report_key(table), check_name=check_name, passed=not failing,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(failing)} {nouns[len(failing) != 1]}: {description}" if failing else ok,
        metadata={nouns[1].replace(" ", "_").lower(): len(failing),
                  "offending": dg.MetadataValue.md("\n".join(f"- {s}" for s in sentences[:MAX_ROWS]) or "none"),
                  **metadata},
    )


CheckFunction = Callable[[dg.AssetCheckExecutionContext, ReportReader], dg.AssetCheckResult]
REGISTERED: list[tuple[dg.AssetCheckSpec, CheckFunction]] = []


def _check(table: str, name: str, description: str, extra_deps: Sequence[str] = ()):
    """Registers a check function of the report table `table` under `name`."""
    def register(fn: CheckFunction) -> CheckFunction:
        REGISTERED.append((dg.AssetCheckSpec(name, asset=report_key(table), description=description, blocking=False,
                                             additional_deps=[report_key(t) for t in extra_deps]), fn))
        return fn
    return register


@_check("mttx_change", "mttx_regression",
        "Fails (WARN) when MTTA or MTTR got worse, overall, for a service or for a team: a `worse` verdict "
        "of mttx_change (Mann-Whitney |z| >= 1.96 and the median up by at least min_change_pct).")
def mttx_regression(context: dg.AssetCheckExecutionContext, reader: ReportReader) -> dg.AssetCheckResult:
    rows = reader.rows(f"""
        select dimension, dimension_id, dimension_name, metric, verdict, n_recent, n_baseline,
            p50_baseline_seconds, p50_recent_seconds, p50_change_pct, z_score, recent_month
        from {report_table('mttx_change')}
        where verdict = 'worse' and dimension in ('all', 'service', 'team') and metric in ('acknowledge', 'resolve')
        order by z_score desc, dimension, dimension_name, metric""")
    month = str(rows[0]["recent_month"])[:7] if rows else None
    return result("mttx_change", "mttx_regression", rows, change_sentence,
                  "no evidence that MTTA or MTTR got worse (overall, per service, per team)",
                  ("regression", "regressions"),
                  {"worse_rows": dg.MetadataValue.json([change_record(r) for r in rows[:MAX_ROWS]]),
                   **({"recent_month": month} if month else {})})


@_check("slo_error_budget", "error_budget_exhausted",
        "Fails (WARN) when a service has consumed more than its whole 30-day error budget.")
def error_budget_exhausted(context: dg.AssetCheckExecutionContext,
                           reader: ReportReader) -> dg.AssetCheckResult:
    rows = reader.rows(f"""
        select service_id, service_name, slo_target_pct, budget_minutes, bad_minutes, budget_consumed_pct,
            burn_rate, worst_incident_id
        from {report_table('slo_error_budget')}
        where budget_consumed_pct > 100
        order by budget_consumed_pct desc, service_id""")

    def sentence(r: Mapping[str, Any]) -> str:
        return (f"error budget of service {r['service_name']}: {float(r['budget_consumed_pct']):,.0f} % consumed "
                f"({float(r['bad_minutes']):,.1f} bad minutes of {float(r['budget_minutes']):,.1f} at "
                f"{float(r['slo_target_pct']):g} %, burn rate {float(r['burn_rate']):,.1f}, "
                f"worst incident {r['worst_incident_id']})")

    return result("slo_error_budget", "error_budget_exhausted", rows, sentence,
                  "every service is within its 30-day error budget", ("service over budget", "services over budget"),
                  {"worst_budget_consumed_pct": float(rows[0]["budget_consumed_pct"]) if rows else 0.0})


@_check("service_reliability_monthly", "availability_below_slo",
        "Fails (WARN) when a service's availability in the last complete month is below its SLO target "
        "(the targets of slo_error_budget).", extra_deps=["slo_error_budget"])
def availability_below_slo(context: dg.AssetCheckExecutionContext,
                           reader: ReportReader) -> dg.AssetCheckResult:
    monthly, budget = report_table("service_reliability_monthly"), report_table("slo_error_budget")
    # the table runs through the month of as_of, which is partial: the one before is the last complete
    rows = reader.rows(f"""
        select m.month, m.service_id, m.service_name, m.availability_pct, m.impact_minutes, m.month_minutes,
            b.slo_target_pct
        from {monthly} as m
        join {budget} as b on b.service_id = m.service_id
        where m.month = (select cast(max(month) - interval '1 month' as date) from {monthly})
          and m.availability_pct < b.slo_target_pct
        order by m.availability_pct, m.service_id""")

    def sentence(r: Mapping[str, Any]) -> str:
        return (f"availability of service {r['service_name']} in {str(r['month'])[:7]}: "
                f"{float(r['availability_pct']):.3f} % against its {float(r['slo_target_pct']):g} % SLO "
                f"({duration_text(float(r['impact_minutes']) * 60)} of weighted downtime)")

    return result("service_reliability_monthly", "availability_below_slo", rows, sentence,
                  "every service met its SLO target in the last complete month",
                  ("service below SLO", "services below SLO"),
                  {"worst_availability_pct": float(rows[0]["availability_pct"]) if rows else 100.0})


@_check("data_quality_issues", "stale_open_incidents",
        "Fails (WARN) when an incident has been open for more than 30 days: usually one nobody closed, "
        "which keeps counting against availability until someone does.")
def stale_open_incidents(context: dg.AssetCheckExecutionContext,
                         reader: ReportReader) -> dg.AssetCheckResult:
    rows = reader.rows(f"""
        select incident_id, number, detail from {report_table('data_quality_issues')}
        where problem = 'stale_open' order by number, incident_id""")

    def sentence(r: Mapping[str, Any]) -> str:
        return f"incident #{r['number']} ({r['incident_id']}) {r['detail']}"

    return result("data_quality_issues", "stale_open_incidents", rows, sentence,
                  "no incident has been open for more than 30 days", ("stale incident", "stale incidents"),
                  {"stale_incidents_table": dg.MetadataValue.md(
                      to_markdown(["incident", "number", "detail"],
                                  [(r["incident_id"], r["number"], r["detail"]) for r in rows[:MAX_ROWS]]))})


@dg.multi_asset_check(
    name="reliability_report_checks",
    specs=[spec for spec, _ in REGISTERED],
    can_subset=True,
    pool=DESTINATION_POOL,  # DuckDB: keep readers out of the writer's way
    description="Regressions of the report tables: MTTx, error budgets, availability, stale incidents.",
)
def reliability_report_checks(context: dg.AssetCheckExecutionContext, destination: DestinationResource,
                              report_settings: ReportSettings) -> Iterator[dg.AssetCheckResult]:
    """Runs the selected checks over one connection of the destination; a transition of a check
    is announced to the alert webhook, when there is one."""
    webhook_url = report_settings.webhook_url()
    with destination.sql_client() as sql:
        reader = ReportReader(sql)
        for spec, check in REGISTERED:
            if spec.key in context.selected_asset_check_keys:
                outcome = check(context, reader)
                announce_transition(context, outcome, webhook_url)
                yield outcome


report_checks = [reliability_report_checks]
