"""One Dagster asset per endpoint: `incident_api/<resource>`, loaded by dlt."""

import re
from typing import Iterator, Optional

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.pipeline.exceptions import PipelineStepFailed

from incident_assets.destination import (
    DESTINATION_POOL, check_destination, definition_pipeline, loader_file_format, make_pipeline,
)
from incident_assets.errors import UserFacingError
from incident_assets.incident_api.endpoints import ENDPOINTS_BY_NAME
from incident_assets.incident_api.http import describe_failure
from incident_assets.incident_api.source import SOURCE_NAME, build_source, incident_api_source
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
            key=dg.AssetKey([SOURCE_NAME, endpoint.name]),
            deps=[],  # the default `<source>_<resource>` deps would be stray assets
            group_name=GROUP,
            description=f"`GET /v1/{endpoint.path}` → `{RAW_SCHEMA}.{endpoint.name}`. "
            f"{endpoint.description}",
            owners=OWNERS,
        ).merge_attributes(
            # dagster-dlt names the table after the source, not the dataset (notes §2.4)
            metadata={"dagster/table_name": f"{RAW_SCHEMA}.{endpoint.name}"},
        )


def _definition_source():
    # Only resource names and hints are read at definition time; the real source, with the
    # configured URL and token, is built per run (no secret is needed to load definitions).
    return incident_api_source(api_token="unused-at-definition-time")


@dlt_assets(
    dlt_source=_definition_source(),
    dlt_pipeline=definition_pipeline(),
    name="incident_api_assets",
    dagster_dlt_translator=IncidentApiTranslator(),
    pool=DESTINATION_POOL,
)
def incident_api_assets(
    context: dg.AssetExecutionContext, dlt: DagsterDltResource, config: IngestionConfig
) -> Iterator[dg.MaterializeResult]:
    try:
        source = build_source(
            full_refresh=config.full_refresh,
            updated_after=config.updated_after,
            updated_before=config.updated_before,
        )
        pipeline = make_pipeline()
        check_destination(pipeline)  # missing/wrong credentials: one clear message, before any request
        kwargs = {"loader_file_format": fmt} if (fmt := loader_file_format()) else {}
        if config.drop_and_reload:
            kwargs["refresh"] = "drop_resources"
        events = list(dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline, **kwargs))
    except (PipelineStepFailed, UserFacingError) as e:
        raise dg.Failure(description=describe_failure(e)) from None
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
            try:
                rows = sql.execute_sql(f"select count(*) from {sql.make_qualified_table_name(table)}")
            except DatabaseUndefinedRelation:  # dlt creates no table for an endpoint never seen with data
                rows = [(0,)]
            yield event._replace(
                metadata={
                    **event.metadata,
                    "rows_loaded": event.metadata.get("rows_loaded", dg.MetadataValue.int(0)),
                    "dagster/row_count": dg.MetadataValue.int(rows[0][0]),
                    "dlt_load_ids": dg.MetadataValue.json(load_ids),
                    "type_drift_columns": dg.MetadataValue.json(
                        [c for c in drift if c.split(".")[0].split("__")[0] == table]
                    ),
                }
            )


def type_drift(pipeline: dlt.Pipeline) -> list[str]:
    """`table.column` of every variant column: a field whose values changed type (dlt's
    schema evolution stores them beside the original column, e.g. `number__v_text`).

    dlt's normalizer flags them `variant`; the Arrow path (columnar.py) names them alike."""
    # read the raw table dicts: dagster-dlt strips `name`/`data_type` off the live schema
    # while emitting metadata (notes §3 #1), which confuses dlt's own table helpers
    return sorted(
        f"{table_name}.{name}"
        for table_name, table in pipeline.default_schema.tables.items()
        for name, column in table.get("columns", {}).items()
        if column.get("variant") or VARIANT_NAME.fullmatch(name)
    )
