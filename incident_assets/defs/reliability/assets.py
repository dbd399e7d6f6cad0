"""The report tables as Dagster assets (`reliability/<table>`), plus the HTML report.

One asset, and so one step, per `sql/<table>.sql` (`report_asset` is the factory: a new SQL
file is a new asset). A step waits only on the tables its SQL reads, so an endpoint that did
not load holds back only the reports that read it; the others are built in the same run.
DuckDB allows one writer: every step is in the destination pool, and the code location's
default executor runs them one after another in one process (see `definitions.py`).
"""


from contextlib import ExitStack, contextmanager
from functools import lru_cache
from typing import Any, Iterable, Iterator, Optional

import dagster as dg

from incident_assets.destination import DESTINATION_POOL, DestinationConfigError, DestinationResource
from incident_assets.reliability.html import REPORT_TABLES, write_html_report
from incident_assets.defs.reliability.previews import (
    asset_description, column_schema, headline_metadata, preview_markdown,
)
from incident_assets.defs.incident_api.asset_keys import ingestion_asset_key
from incident_assets.defs.reliability.report_config import HtmlReportConfig, ReliabilityConfig, ReportSettings
from incident_assets.reliability.report_files import ReportTable, report_tables
from incident_assets.reliability.runner import run_reports
from incident_assets.reliability.sql_literals import ReportSqlError
from incident_assets.settings import REPORT_SCHEMA, destination_name

GROUP = "reliability"
OWNERS = ["team:sre-platform"]
AUTOMATION = dg.AutomationCondition.eager()


def table_key(name: str) -> dg.AssetKey:
    """The asset key of a report table (or of the HTML report): `reliability/<name>`."""
    return dg.AssetKey([GROUP, name])


def report_run_config(tables: Optional[Iterable[str]] = None, **config: Any) -> dict[str, Any]:
    """Run config giving each report asset of the run (default: all; Dagster refuses config for
    an asset the run does not select) the same `ReliabilityConfig` overrides, set once."""
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
        context: dg.AssetExecutionContext, config: ReliabilityConfig, report_settings: ReportSettings,
        destination: DestinationResource,
    ) -> dg.MaterializeResult:
        return build_table(context, config, report_settings, destination, table)

    return build_report_table


def build_table(context: dg.AssetExecutionContext, config: ReliabilityConfig, settings: ReportSettings,
                destination: DestinationResource, table: ReportTable) -> dg.MaterializeResult:
    """Builds one report table in the destination; its materialization carries the table's
    column schema, a preview and its headline numbers."""
    try:
        params = settings.params(config, context)  # every value checked here, before any SQL
    except ReportSqlError as e:
        raise dg.Failure(description=str(e)) from None
    literals = params.literals()
    with report_sql_client(context.run_id, destination) as sql:
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


@lru_cache(maxsize=1)
def run_sql_client(run_id: str, destination: DestinationResource) -> Any:
    """The SQL client of the destination's pipeline, built once per run and shared by its
    report steps (they run one after another in one process by default): building the pipeline
    and its client took about 40 ms a table. Each step still connects and disconnects."""
    return destination.pipeline().sql_client()


@contextmanager
def report_sql_client(run_id: str, destination: DestinationResource) -> Iterator[Any]:
    """The run's SQL client (`run_sql_client`), connected for the duration.

    The pre-flight check (`DestinationResource.check`) runs only when connecting fails: it turns
    a locked file or bad credentials into one sentence naming the key (the step's failure), and
    makes a DuckDB file's missing folder (then connecting is tried once more). Checking before
    every step opened and closed the file once more per table."""
    with ExitStack() as stack:
        try:
            sql = stack.enter_context(run_sql_client(run_id, destination))
        except Exception:
            try:
                destination.check(destination.pipeline())
            except DestinationConfigError as e:
                raise dg.Failure(description=str(e)) from None
            sql = stack.enter_context(run_sql_client(run_id, destination))
        yield sql


report_assets: list[dg.AssetsDefinition] = [report_asset(t) for t in report_tables().values()]


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
    context: dg.AssetExecutionContext, config: HtmlReportConfig, report_settings: ReportSettings,
    destination: DestinationResource,
) -> dg.MaterializeResult:
    """Writes the HTML report; its metadata says where it is and which sections wait for their tables."""
    path = report_settings.html_report_path(config).resolve()
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
