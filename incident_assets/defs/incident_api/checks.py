"""Checks on the raw tables, run after every load (and on demand from the UI).

Severity says who has to act:
- ERROR (the load is broken; blocking, so the reports do not run on it): a table missing after a
  load, duplicate or null primary keys.
- WARN (the API's data has a problem; the reports still run): incidents without a `started`
  time, incident services that are not in the service catalog, and column schema changes.

All queries of one run go through one short connection of the destination's own SQL client
(the `destination` resource's `sql_client()`), so they work on DuckDB and PostgreSQL alike.
"""


import warnings
from typing import Iterator, Optional

import dagster as dg

from incident_assets.defs.incident_api.asset_keys import ingestion_asset_key
from incident_assets.destination import DESTINATION_POOL, DestinationResource, schema_columns
from incident_assets.incident_api.endpoints import ENDPOINTS, Endpoint

SAMPLE = 5  # offending keys listed in the check's metadata

PRIMARY_KEY_CHECK = "primary_key_unique_not_null"
STARTED_CHECK = "every_incident_has_started_time"
SERVICES_CHECK = "incident_services_exist"


INCIDENTS = ingestion_asset_key("incidents")
SERVICES = ingestion_asset_key("services")



def primary_key_spec(endpoint: Endpoint) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        PRIMARY_KEY_CHECK,
        asset=ingestion_asset_key(endpoint.name),
        blocking=True,
        description=f"`{endpoint.primary_key}` is never null and never repeated in `{endpoint.name}`, and the "
        "table exists after a load (ERROR: a broken load).",
    )


STARTED_SPEC = dg.AssetCheckSpec(
    STARTED_CHECK,
    asset=INCIDENTS,
    description="Every incident has a start: a `started` milestone or `started_at` "
    "(WARN: such incidents have no MTTx).",
)
SERVICES_SPEC = dg.AssetCheckSpec(
    SERVICES_CHECK,
    asset=INCIDENTS,
    additional_deps=[SERVICES],
    description="Every service an incident names (`incidents__services`) is in `services` "
    "(WARN: unknown services drop out of per-service reports).",
)


class RawTables:
    """The raw tables of the destination, queried over one SQL client connection."""

    def __init__(self, sql) -> None:
        self.sql = sql
        self.present = set(schema_columns(sql, sql.dataset_name))

    def name(self, table: str) -> str:
        """The table's qualified name, quoted as the destination wants it."""
        return self.sql.make_qualified_table_name(table)

    def columns(self, table: str) -> set[str]:
        """The column names a raw table has."""
        return {c for c, _ in schema_columns(self.sql, self.sql.dataset_name, table).get(table, [])}

    def first_row(self, query: str) -> tuple:
        """The first row a query returns (for aggregates: the only one)."""
        return tuple(self.sql.execute_sql(query)[0])

    def first_column(self, query: str) -> list[str]:
        """The first column of every row a query returns, as text."""
        return [str(r[0]) for r in self.sql.execute_sql(query) or []]


def _last_row_count(context: dg.AssetCheckExecutionContext, key: dg.AssetKey) -> Optional[int]:
    """The row count the asset's latest materialization reported, if any."""
    event = context.instance.get_latest_materialization_event(key)
    if event is None or event.asset_materialization is None:
        return None
    value = event.asset_materialization.metadata.get("dagster/row_count")
    return None if value is None else int(value.value)


def check_primary_key(
    context: dg.AssetCheckExecutionContext, tables: RawTables, endpoint: Endpoint
) -> dg.AssetCheckResult:
    """ERROR unless the endpoint's key is unique and non-null (a missing table passes only when the
    endpoint has never returned a record)."""
    key, table, asset = endpoint.primary_key, endpoint.name, ingestion_asset_key(endpoint.name)
    identity = dict(asset_key=asset, check_name=PRIMARY_KEY_CHECK, severity=dg.AssetCheckSeverity.ERROR)
    if table not in tables.present:
        rows = _last_row_count(context, asset)
        if rows == 0:
            # dlt creates no table for an endpoint that has never returned a record
            return dg.AssetCheckResult(
                passed=True, **identity,
                description=f"no `{table}` table: the endpoint has returned no records yet",
                metadata={"table_exists": False, "rows": 0},
            )
        return dg.AssetCheckResult(
            passed=False, **identity,
            description=f"table `{tables.sql.dataset_name}.{table}` is missing"
            + (" although the last load reported rows" if rows else " (never loaded?)"),
            metadata={"table_exists": False, "last_reported_rows": rows if rows is not None else -1},
        )
    name = tables.name(table)
    total, nulls, duplicates = tables.first_row(
        f"select count(*), count(*) - count({key}), count({key}) - count(distinct {key}) from {name}"
    )
    sample = tables.first_column(
        f"select {key} from {name} where {key} is not null group by {key} having count(*) > 1 "
        f"order by {key} limit {SAMPLE}"
    ) if duplicates else []
    passed = nulls == 0 and duplicates == 0
    problems = [f"{nulls} null `{key}`"] * bool(nulls) + [f"{duplicates} duplicate `{key}`"] * bool(duplicates)
    return dg.AssetCheckResult(
        passed=passed, **identity,
        description=f"`{key}` is unique and non-null in {total} rows"
        if passed else f"{' and '.join(problems)} in `{table}` ({total} rows): the load is broken",
        metadata={
            "rows": int(total),
            "null_keys": int(nulls),
            "duplicate_keys": int(duplicates),
            "duplicate_key_sample": dg.MetadataValue.json(sample),
        },
    )


def check_started(tables: RawTables) -> dg.AssetCheckResult:
    """WARN for incidents with neither a `started` milestone nor `started_at` (they have no MTTx)."""
    identity = dict(asset_key=INCIDENTS, check_name=STARTED_CHECK, severity=dg.AssetCheckSeverity.WARN)
    if "incidents" not in tables.present:
        return dg.AssetCheckResult(passed=False, **identity, description="no incidents table",
                                   metadata={"table_exists": False})
    conditions = []
    if "started_at" in tables.columns("incidents"):
        conditions.append("i.started_at is not null")
    if "incidents__milestones" in tables.present:
        conditions.append(
            f"exists (select 1 from {tables.name('incidents__milestones')} m "
            "where m._dlt_parent_id = i._dlt_id and m.type = 'started' and m.occurred_at is not null)"
        )
    has_start = " or ".join(conditions) or "false"
    where = f"from {tables.name('incidents')} i where not ({has_start})"
    (missing,) = tables.first_row(f"select count(*) {where}")
    sample = tables.first_column(f"select i.id {where} order by i.id limit {SAMPLE}") if missing else []
    return dg.AssetCheckResult(
        passed=missing == 0, **identity,
        description="every incident has a start time" if not missing
        else f"{missing} incident(s) have neither a `started` milestone nor `started_at`",
        metadata={"incidents_without_start": int(missing), "sample_ids": dg.MetadataValue.json(sample)},
    )


def check_services(tables: RawTables) -> dg.AssetCheckResult:
    """WARN for services that incidents name but the service catalog lacks."""
    identity = dict(asset_key=INCIDENTS, check_name=SERVICES_CHECK, severity=dg.AssetCheckSeverity.WARN)
    if "incidents__services" not in tables.present:
        return dg.AssetCheckResult(passed=True, **identity, description="no incident names a service",
                                   metadata={"unknown_service_refs": 0})
    if "services" not in tables.present:
        return dg.AssetCheckResult(passed=False, **identity,
                                   description="incidents name services but the `services` table is missing",
                                   metadata={"services_table_exists": False})
    where = (
        f"from {tables.name('incidents__services')} s left join {tables.name('services')} c "
        "on c.id = s.id where c.id is null"
    )
    refs, distinct = tables.first_row(f"select count(*), count(distinct s.id) {where}")
    sample = tables.first_column(f"select distinct s.id {where} order by s.id limit {SAMPLE}") if refs else []
    return dg.AssetCheckResult(
        passed=refs == 0, **identity,
        description="every incident service is in the catalog" if not refs
        else f"{distinct} service id(s) named by incidents ({refs} references) are not in `services`",
        metadata={
            "unknown_service_refs": int(refs),
            "unknown_services": int(distinct),
            "unknown_service_sample": dg.MetadataValue.json(sample),
        },
    )


def endpoint_checks(endpoint: Endpoint) -> dg.AssetChecksDefinition:
    """The checks of one endpoint's table, a step of their own: a step waits on every asset it
    checks, so a broken endpoint must hold back only its own checks (and the reports they gate)."""
    specs = [primary_key_spec(endpoint)] + ([STARTED_SPEC] if endpoint.name == "incidents" else [])

    @dg.multi_asset_check(
        name=f"incident_api_{endpoint.name}_checks",
        specs=specs,
        can_subset=True,
        pool=DESTINATION_POOL,  # DuckDB: keep readers out of the writer's way
        description=f"Primary key{' and start times' if len(specs) > 1 else ''} of `{endpoint.name}`.",
    )
    def raw_table_checks(
        context: dg.AssetCheckExecutionContext, destination: DestinationResource
    ) -> Iterator[dg.AssetCheckResult]:
        selected = context.selected_asset_check_keys
        with destination.sql_client() as sql:
            tables = RawTables(sql)
            if dg.AssetCheckKey(ingestion_asset_key(endpoint.name), PRIMARY_KEY_CHECK) in selected:
                yield check_primary_key(context, tables, endpoint)
            if STARTED_SPEC.key in selected:
                yield check_started(tables)

    return raw_table_checks


@dg.multi_asset_check(
    name="incident_api_service_reference_checks",
    specs=[SERVICES_SPEC],
    pool=DESTINATION_POOL,
    description="Service references of the incidents (reads `incidents` and `services`).",
)
def service_reference_checks(
    context: dg.AssetCheckExecutionContext, destination: DestinationResource
) -> Iterator[dg.AssetCheckResult]:
    with destination.sql_client() as sql:
        yield check_services(RawTables(sql))


# dlt reports each table's columns as `dagster/column_schema`: WARN when they change between loads
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)
    # one step per table, like the checks above (a broken endpoint holds back only its own)
    schema_change_checks = [
        check
        for key in (ingestion_asset_key(e.name) for e in ENDPOINTS)  # the ingestion assets' keys
        for check in dg.build_column_schema_change_checks(assets=[key], severity=dg.AssetCheckSeverity.WARN)
    ]

incident_api_checks = [*(endpoint_checks(e) for e in ENDPOINTS), service_reference_checks, *schema_change_checks]
