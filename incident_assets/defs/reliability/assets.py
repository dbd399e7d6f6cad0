"""The report tables as Dagster assets (`reliability/<table>`), plus the HTML report.

One asset, and so one step, per `sql/<table>.sql` (`report_asset` is the factory: a new SQL
file is a new asset). A step waits only on the tables its SQL reads, so an endpoint that did
not load holds back only the reports that read it; the others are built in the same run.
DuckDB allows one writer: every step is in the destination pool, and the code location's
default executor runs them one after another in one process (see `definitions.py`).
"""


import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

import dagster as dg

from incident_assets.destination import DESTINATION_POOL, DestinationConfigError, DestinationResource
from incident_assets.reliability.html import REPORT_TABLES, write_html_report
from incident_assets.defs.reliability.previews import (
    asset_description, column_schema, headline_metadata, preview_markdown,
)
from incident_assets.defs.incident_api.asset_keys import ingestion_asset_key
from incident_assets.reliability.params import (
    DEFAULT_EXCLUDED_SEVERITIES, DEFAULT_IMPACT_WEIGHTS, DEFAULT_MIN_CHANGE_PCT, DEFAULT_SLO_TARGET,
    DEFAULT_SLO_TARGETS, ReportParams, validated_impact_weights,
)
from incident_assets.reliability.report_files import ReportTable, report_tables
from incident_assets.reliability.runner import run_reports
from incident_assets.reliability.sql_literals import ReportSqlError
from incident_assets.settings import (
    AS_OF_ENV, DEFAULT_HTML_REPORT_PATH, REPORT_SCHEMA, configured_timezone, destination_name,
)

GROUP = "reliability"
OWNERS = ["team:sre-platform"]
HTML_REPORT_ENV = "INCIDENT_ASSETS_HTML_REPORT"
IMPACT_WEIGHTS_ENV = "INCIDENT_ASSETS_IMPACT_WEIGHTS"
AUTOMATION = dg.AutomationCondition.eager()


class ReliabilityConfig(dg.Config):
    """Run config of the report tables (all optional; defaults as in docs/metrics.md). Every
    report asset takes this same config; `report_run_config` sets it on all of them at once."""

    as_of: Optional[str] = None
    """The instant the reports describe (ISO-8601). Else env INCIDENT_ASSETS_AS_OF, else the run's start."""
    excluded_severities: list[str] = list(DEFAULT_EXCLUDED_SEVERITIES)
    """Severity slugs left out of the reports."""
    slo_target_pct_by_tier: dict[str, float] = {str(k): v for k, v in DEFAULT_SLO_TARGETS.items()}
    """SLO target (%) per service tier ("1", "2", ...)."""
    slo_default_target_pct: float = DEFAULT_SLO_TARGET
    """SLO target (%) of the other tiers."""
    change_window_hours: float = 24.0
    """A change failed when an incident on its service starts within this many hours."""
    retrospective_due_days: float = 14.0
    """A retrospective not completed this many days after resolution is overdue."""
    timezone: Optional[str] = None
    """IANA time zone of the business / off / sleep hours. Else env INCIDENT_ASSETS_TIMEZONE, else UTC."""
    impact_weights: Optional[dict[str, Any]] = None
    """Downtime weight in [0, 1] per impact condition name (matched trimmed, any case); replaces
    the default map. Else env INCIDENT_ASSETS_IMPACT_WEIGHTS (a JSON object), else
    unavailable 1, partially unavailable 0.3, degraded / bug / operational 0. A condition not in
    the map is weighed by its position: 0 -> 1, 1 -> 0.3, else 0."""
    min_change_pct: float = DEFAULT_MIN_CHANGE_PCT
    """mttx_change calls a month worse (better) only when its median moved up (down) by at least
    this many percent, besides a Mann-Whitney |z| >= 1.96."""


def parse_instant(text: str, source: str) -> datetime:
    """An ISO-8601 instant (UTC when it has no offset); else a Failure naming `source`."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise dg.Failure(description=f"{source}: {text!r} is not an ISO-8601 timestamp") from None
    # a timestamp without offset is read as UTC, the reports' time zone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def run_start(context: dg.AssetExecutionContext) -> datetime:
    """When the run started (now, when the instance has no record of it)."""
    record = context.instance.get_run_record_by_id(context.run_id)
    started = record.start_time if record is not None else None
    return datetime.fromtimestamp(started, timezone.utc) if started else datetime.now(timezone.utc)


def impact_weights(config: ReliabilityConfig) -> Mapping[str, float]:
    """Run config wins over the env var, which wins over the defaults; a bad value fails with one
    sentence naming where it came from."""
    try:
        if config.impact_weights is not None:
            return validated_impact_weights(config.impact_weights, "impact_weights")
        if os.environ.get(IMPACT_WEIGHTS_ENV, "").strip():
            return validated_impact_weights(os.environ[IMPACT_WEIGHTS_ENV], IMPACT_WEIGHTS_ENV)
    except ReportSqlError as e:
        raise dg.Failure(description=str(e)) from None
    return dict(DEFAULT_IMPACT_WEIGHTS)


def report_params(config: ReliabilityConfig, context: dg.AssetExecutionContext) -> ReportParams:
    """The run's typed parameters from run config, env vars and defaults (checked before any SQL)."""
    if config.as_of:
        as_of = parse_instant(config.as_of, "run config as_of")
    elif os.environ.get(AS_OF_ENV, "").strip():
        as_of = parse_instant(os.environ[AS_OF_ENV], AS_OF_ENV)
    else:
        as_of = run_start(context)
    try:
        tiers = {int(k): float(v) for k, v in config.slo_target_pct_by_tier.items()}
    except ValueError:
        raise dg.Failure(description="slo_target_pct_by_tier keys must be tier numbers") from None
    try:
        tz = configured_timezone(config.timezone, "run config timezone")
    except ValueError as e:
        raise dg.Failure(description=str(e)) from None
    return ReportParams(
        as_of=as_of,
        excluded_severities=tuple(config.excluded_severities),
        slo_targets=tiers,
        slo_default_target_pct=config.slo_default_target_pct,
        change_window=timedelta(hours=config.change_window_hours),
        retrospective_due=timedelta(days=config.retrospective_due_days),
        timezone=tz,
        impact_weights=impact_weights(config),
        min_change_pct=config.min_change_pct,
    )


def table_key(name: str) -> dg.AssetKey:
    """The asset key of a report table (or of the HTML report): `reliability/<name>`."""
    return dg.AssetKey([GROUP, name])


def report_run_config(tables: Optional[Iterable[str]] = None, **config: Any) -> dict[str, Any]:
    """Run config giving each report asset of the run (default: all; Dagster refuses config for
    an asset the run does not select) the same `ReliabilityConfig` values, set once."""
    names = report_tables() if tables is None else tables
    return {"ops": {report_op_name(name): {"config": dict(config)} for name in names}}


def report_op_name(name: str) -> str:
    """The op (step) of report table `name`: Dagster's name for the key `reliability/<name>`."""
    return f"{GROUP}__{name}"


def report_asset(table: ReportTable) -> dg.AssetsDefinition:
    """The asset of one report table: reads what its SQL declares, writes `reliability.<table>`."""
    raw_deps = sorted({ingestion_asset_key(t) for t in table.raw_inputs})

    @dg.asset(
        key=table_key(table.name),
        deps=raw_deps + [table_key(t) for t in table.report_inputs],
        description=asset_description(table),
        group_name=GROUP,
        owners=OWNERS,
        kinds={"sql", destination_name()},
        automation_condition=AUTOMATION,
        metadata={"dagster/table_name": f"{REPORT_SCHEMA}.{table.name}",
                  "sql_file": f"incident_assets/reliability/sql/{table.name}.sql",
                  "dagster/column_schema": column_schema(table)},
        pool=DESTINATION_POOL,
    )
    def build_report_table(
        context: dg.AssetExecutionContext, config: ReliabilityConfig, destination: DestinationResource
    ) -> dg.MaterializeResult:
        return build_table(context, config, destination, table)

    return build_report_table


def build_table(context: dg.AssetExecutionContext, config: ReliabilityConfig, destination: DestinationResource,
                table: ReportTable) -> dg.MaterializeResult:
    """Builds one report table in the destination; its materialization carries the table's
    column schema, a preview and its headline numbers."""
    params = report_params(config, context)
    try:
        literals = params.literals()
    except ReportSqlError as e:
        raise dg.Failure(description=str(e)) from None
    pipeline = destination.pipeline()
    try:
        destination.check(pipeline)  # bad credentials: one sentence naming the key
    except DestinationConfigError as e:
        raise dg.Failure(description=str(e)) from None
    with pipeline.sql_client() as sql:
        (result,) = run_reports(sql, params, [table.name])
        context.log.info(f"{REPORT_SCHEMA}.{result.name} as of {params.as_of.isoformat()}: {result.row_count:,} rows")
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": dg.MetadataValue.int(result.row_count),
                "dagster/column_schema": column_schema(table, dict(result.columns)),
                "as_of": dg.MetadataValue.text(params.as_of.isoformat()),
                "preview": dg.MetadataValue.md(preview_markdown(sql, table, literals)),
                **headline_metadata(sql, table, literals),
                "sql": dg.MetadataValue.md(f"```sql\n{result.sql}\n```"),
            },
        )


report_assets: list[dg.AssetsDefinition] = [report_asset(t) for t in report_tables().values()]


class HtmlReportConfig(dg.Config):
    """Run config of the HTML report."""

    path: Optional[str] = None
    """Where to write the report. Else env INCIDENT_ASSETS_HTML_REPORT, else data/reports/reliability.html."""


def html_report_path(config: HtmlReportConfig) -> Path:
    """The report's file: run config, else the environment variable, else the default under data/."""
    configured = config.path or os.environ.get(HTML_REPORT_ENV, "").strip()
    return Path(configured) if configured else DEFAULT_HTML_REPORT_PATH


@dg.asset(
    key=table_key("html_report"),
    deps=[table_key(t) for t in REPORT_TABLES],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"html", "plotly"},
    automation_condition=AUTOMATION,
    pool=DESTINATION_POOL,  # reads the DuckDB file, which a writer would lock
    description="Offline, self-contained HTML reliability review (plotly JS inlined); the materialization "
                "shows its path, to copy, and how to open it.",
)
def reliability_html_report(
    context: dg.AssetExecutionContext, config: HtmlReportConfig, destination: DestinationResource
) -> dg.MaterializeResult:
    """Writes the HTML report; its metadata says where it is and which sections wait for their tables."""
    path = html_report_path(config).resolve()
    with destination.sql_client() as sql:
        page = write_html_report(sql, path)
    context.log.info(f"reliability report written to {path} ({path.as_uri()})")
    return dg.MaterializeResult(metadata={
        # a path to copy, not a link: browsers refuse file:// links from a web page such as the UI
        "path": dg.MetadataValue.path(str(path)),
        "open": dg.MetadataValue.text(f"paste {path.as_uri()} into the browser's address bar, or run: "
                                      f"xdg-open {path} (macOS: open {path})"),
        "sections": dg.MetadataValue.json(page.sections),
        "sections_not_built": dg.MetadataValue.json(page.not_built),
        "size_bytes": dg.MetadataValue.int(path.stat().st_size),
    })
