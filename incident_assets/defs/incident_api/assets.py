"""One Dagster asset per endpoint: `incident_api/<resource>`, loaded by dlt.

One broken endpoint does not take the others down. An error that belongs to one endpoint
(HTTP 403 or 404, a body of the wrong shape, a runaway page cursor, errors that outlast the
retries, while `GET /v1/ping` still answers) leaves that endpoint out: dlt loads and commits
every other selected endpoint, without the broken one, in a fresh attempt (the aborted one
commits nothing, and a `replace` endpoint that yielded nothing would otherwise be emptied).
The broken endpoint is not materialized; it gets an `AssetObservation` with the HTTP status
and the one-sentence reason, and the run log names it.

Such a run then ends RED, after everything that could be loaded is committed and
materialized: a run that did not load what it was asked to must not look healthy. The
failure names each broken endpoint, its HTTP status and the assets downstream of it that
this run leaves stale; each of those gets an observation saying why. The other reports are
built in the same run: the code location's executor starts a step once the outputs it reads
exist (see `definitions.py`), and only the steps reading a broken endpoint are not run.

Errors no endpoint escapes (a bad token, the account's rate limit, an unreachable host, the
API root failing too, the destination) fail the run at once with their one sentence.
"""

import re
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator
from dagster_dlt.asset_decorator import build_dlt_asset_specs
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.extract.exceptions import ResourceExtractionError
from dlt.pipeline.exceptions import PipelineStepFailed

from incident_assets.destination import DESTINATION_POOL, DestinationResource, definition_pipeline
from incident_assets.errors import UserFacingError
from incident_assets.defs.incident_api.asset_keys import ingestion_asset_key
from incident_assets.defs.incident_api.column_schemas import declared_schema
from incident_assets.incident_api.endpoints import ENDPOINTS_BY_NAME
from incident_assets.incident_api.gc_passes import fewer_gc_passes
from incident_assets.incident_api.http import (
    ANSWER_ERRORS,
    causes,
    describe_failure,
    fails_every_endpoint,
    http_status,
)
from incident_assets.defs.incident_api.load_summary import readable
from incident_assets.defs.incident_api.source_logs import source_logs_in_run_log
from incident_assets.incident_api.source import SkippedRecords, api_root_answers, build_source, incident_api_source
from incident_assets.settings import RAW_SCHEMA

GROUP = "incident_api"
VARIANT_NAME = re.compile(r".+__v_(text|bigint|double|bool|json|timestamp)")
OWNERS = ["team:sre-platform"]


class IngestionConfig(dg.Config):
    """Run config of the ingestion assets (all optional)."""

    full_refresh: bool = False
    """Ignore the stored cursors and fetch every record again (merged, so nothing duplicates)."""
    updated_after: Optional[str] = None
    """Backfill: start of a window (ISO-8601). With a window the stored cursors do not move."""
    updated_before: Optional[str] = None
    """Backfill: end of the window (ISO-8601)."""
    drop_and_reload: bool = False
    """Drop the selected endpoints' tables and cursors, then load them from scratch
    (dlt's `refresh="drop_resources"`): for a destination whose layout has changed."""


class IncidentApiTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        endpoint = ENDPOINTS_BY_NAME[data.resource.name]
        return spec.replace_attributes(
            key=ingestion_asset_key(endpoint.name),
            deps=[],  # the default `<source>_<resource>` deps would be stray assets
            group_name=GROUP,
            # plain text: the UI shows descriptions as such in places (no literal backticks)
            description=f"GET /v1/{endpoint.path} → {RAW_SCHEMA}.{endpoint.name}. "
            f"{endpoint.description.replace('`', '')}",
            owners=OWNERS,
        ).merge_attributes(
            # dagster-dlt names the table after the source, not the dataset
            metadata={"dagster/table_name": f"{RAW_SCHEMA}.{endpoint.name}",
                      "dagster/column_schema": declared_schema(endpoint.name, endpoint.columns)},
        )


def _definition_source():
    # Only resource names and hints are read at definition time; the real source, with the
    # configured URL and token, is built per run (no secret is needed to load definitions).
    return incident_api_source(api_token="unused-at-definition-time")


def _specs() -> list[dg.AssetSpec]:
    """dagster-dlt's specs without the source, pipeline and translator objects it keeps in their
    metadata (the UI lists them as "(unserializable)"); the asset hands all three to `run`."""
    return [
        spec.replace_attributes(metadata={k: v for k, v in spec.metadata.items() if not k.startswith("dagster_dlt/")})
        for spec in build_dlt_asset_specs(_definition_source(), definition_pipeline(), IncidentApiTranslator())
    ]


# what `@dlt_assets` does, with the specs above
@dg.multi_asset(name="incident_api_assets", specs=_specs(), can_subset=True, pool=DESTINATION_POOL)
def incident_api_assets(
    context: dg.AssetExecutionContext, dlt: DagsterDltResource, config: IngestionConfig,
    destination: DestinationResource,
) -> Iterator[Any]:
    try:
        # missing/wrong credentials: one clear message, before any request
        with destination.loading_pipeline() as pipeline, source_logs_in_run_log(context), fewer_gc_passes():
            events, failures, skipped = load_isolated(context, dlt, config, pipeline, destination.loader_file_format())
            results = list(with_load_metadata(context, pipeline, events, skipped))
    except (PipelineStepFailed, UserFacingError) as e:
        raise dg.Failure(description=describe_failure(e)) from None
    yield from results
    for failure in failures.values():
        yield failure.observation()
    if failures:
        stale = stale_downstream(context, failures)
        for key, endpoints in stale.items():
            context.log_event(dg.AssetObservation(
                asset_key=key,
                description=f"not refreshed in this run: it reads {', '.join(f'`{e}`' for e in endpoints)}, "
                "which did not load: " + "; ".join(failures[e].reason for e in endpoints),
                tags={"incident_assets/endpoint_failure": "upstream"},
                metadata={"stale_because": dg.MetadataValue.json(endpoints)},
            ))
        names = ", ".join(f"`{name}`" for name in failures)
        left_stale = ", ".join(k.to_user_string() for k in stale) or "none"
        raise dg.Failure(
            description=f"{len(failures)} endpoint(s) not loaded ({names}), the other "
            f"{len(events)} loaded and committed: "
            + "; ".join(f"{name}: {f.reason}" for name, f in failures.items())
            + f". Left stale by this run: {left_stale}",
            metadata={"failed_endpoints": dg.MetadataValue.json(sorted(failures)),
                      "stale_assets": dg.MetadataValue.json([k.to_user_string() for k in stale])},
        )


def stale_downstream(context: dg.AssetExecutionContext,
                     failures: dict[str, "EndpointFailure"]) -> dict[dg.AssetKey, list[str]]:
    """Each asset of this run's job downstream of a broken endpoint (reports, the HTML report),
    with the broken endpoints it reads, directly or through other reports; in key order."""
    graph = context.job_def.asset_layer.asset_graph
    stale: dict[dg.AssetKey, set[str]] = {}
    for endpoint in failures:
        todo = list(graph.get(ingestion_asset_key(endpoint)).child_keys)
        while todo:
            key = todo.pop()
            if endpoint not in stale.setdefault(key, set()):
                stale[key].add(endpoint)
                todo.extend(graph.get(key).child_keys)
    return {key: sorted(stale[key]) for key in sorted(stale, key=lambda k: k.to_user_string())}


@dataclass(frozen=True)
class EndpointFailure:
    """Why one endpoint was left out of a run."""

    endpoint: str
    reason: str
    status: Optional[int]

    def observation(self) -> dg.AssetObservation:
        return dg.AssetObservation(
            asset_key=ingestion_asset_key(self.endpoint),
            description=f"not loaded: {self.reason}",
            tags={"incident_assets/endpoint_failure": "true"},
            metadata={
                "failure": dg.MetadataValue.text(self.reason),
                "http_status": dg.MetadataValue.int(self.status) if self.status else dg.MetadataValue.text("none"),
            },
        )


def load_isolated(
    context: dg.AssetExecutionContext,
    dlt_resource: DagsterDltResource,
    config: IngestionConfig,
    pipeline: dlt.Pipeline,
    loader_file_format: Optional[str],
) -> tuple[list[dg.MaterializeResult], dict[str, EndpointFailure], SkippedRecords]:
    """Runs dlt on the selected endpoints; when one fails on its own, runs again without it.

    Each attempt that meets an endpoint's own error is aborted before anything is committed,
    so an endpoint's partial pages never reach the destination (nor move its cursor).
    At most one attempt per selected endpoint, plus one.
    """
    selected = {key.path[-1] for key in context.selected_asset_keys}
    failures: dict[str, EndpointFailure] = {}
    kwargs: dict[str, Any] = {"loader_file_format": loader_file_format} if loader_file_format else {}
    if config.drop_and_reload:
        kwargs["refresh"] = "drop_resources"
    while selected - failures.keys():
        skipped = SkippedRecords()
        source = build_source(
            full_refresh=config.full_refresh,
            updated_after=config.updated_after,
            updated_before=config.updated_before,
            skipped=skipped,
        )
        if failures:
            source = source.with_resources(*(n for n in source.resources if n not in failures))
        try:
            events = list(dlt_resource.run(context=context, dlt_source=source, dlt_pipeline=pipeline,
                                           dagster_dlt_translator=IncidentApiTranslator(), **kwargs))
            return events, failures, skipped
        except PipelineStepFailed as e:
            failure = endpoint_failure(e, selected - failures.keys())
            if failure is None:
                raise
            context.log.error(
                f"endpoint `{failure.endpoint}` not loaded, loading the others without it: {failure.reason}"
            )
            failures[failure.endpoint] = failure
    return [], failures, SkippedRecords()


def endpoint_failure(error: PipelineStepFailed, candidates: set[str]) -> Optional[EndpointFailure]:
    """The endpoint `error` belongs to, or None when it is everyone's problem (or a bug)."""
    if error.step != "extract" or fails_every_endpoint(error):
        return None
    chain = causes(error)
    if not any(isinstance(c, ANSWER_ERRORS) for c in chain):
        return None  # not in what the endpoint answered (a bug, the destination): fail loudly
    endpoint = next(
        (c.pipe_name for c in chain if isinstance(c, ResourceExtractionError) and c.pipe_name in candidates),
        None,
    )
    if endpoint is None or not api_root_answers():
        return None
    return EndpointFailure(endpoint, describe_failure(error), http_status(error))


def with_load_metadata(
    context: dg.AssetExecutionContext,
    pipeline: dlt.Pipeline,
    events: list[dg.MaterializeResult],
    skipped: SkippedRecords,
) -> Iterator[dg.MaterializeResult]:
    """dagster-dlt's materializations, with row counts, load ids, type drift and skipped records."""
    if not events:
        return
    load_ids = list(pipeline.last_trace.last_load_info.loads_ids)
    drift = type_drift(pipeline)
    for column in drift:
        context.log.warning(
            f"type drift: {column} holds values of another type than declared; dlt keeps them "
            "in this variant column instead of corrupting the original"
        )
    with pipeline.sql_client() as sql:
        for event in events:
            table = event.asset_key.path[-1]
            left_out = skipped.of(table)
            if left_out:
                context.log.warning(
                    f"endpoint `{table}`: {sum(left_out.values())} record(s) left out ("
                    + ", ".join(f"{n} {reason}" for reason, n in left_out.items()) + ")"
                )
            try:
                rows = sql.execute_sql(f"select count(*) from {sql.make_qualified_table_name(table)}")
            except DatabaseUndefinedRelation:  # dlt creates no table for an endpoint never seen with data
                rows = [(0,)]
            yield event._replace(
                metadata={
                    **readable(event.metadata, load_ids),
                    "rows_loaded": event.metadata.get("rows_loaded", dg.MetadataValue.int(0)),
                    "dagster/row_count": dg.MetadataValue.int(rows[0][0]),
                    "dlt_load_ids": dg.MetadataValue.json(load_ids),
                    "type_drift_columns": dg.MetadataValue.json(
                        [c for c in drift if c.split(".")[0].split("__")[0] == table]
                    ),
                    "skipped_records": dg.MetadataValue.int(sum(left_out.values())),
                    "skipped_reasons": dg.MetadataValue.json(left_out),
                }
            )


def type_drift(pipeline: dlt.Pipeline) -> list[str]:
    """`table.column` of every variant column: a field whose values changed type (dlt's
    schema evolution stores them beside the original column, e.g. `number__v_text`).

    dlt's normalizer flags them `variant`; the Arrow path (columnar.py) names them alike."""
    # read the raw table dicts: dagster-dlt strips `name`/`data_type` off the live schema
    # while emitting metadata, which confuses dlt's own table helpers
    return sorted(
        f"{table_name}.{name}"
        for table_name, table in pipeline.default_schema.tables.items()
        for name, column in table.get("columns", {}).items()
        if column.get("variant") or VARIANT_NAME.fullmatch(name)
    )
