"""The ingestion assets' column schemas as Dagster shows them: dlt's or the declared columns,
with the words of `incident_assets/incident_api/column_docs.py`."""

from __future__ import annotations

from typing import Mapping

import dagster as dg

from incident_assets.incident_api.column_docs import column_description


def described(table: str, schema: dg.TableSchema) -> dg.TableSchema:
    """`schema` (dlt's, with its types and constraints) with the declared descriptions added."""
    return dg.TableSchema(columns=[
        dg.TableColumn(c.name, c.type, description=c.description or column_description(table, c.name),
                       constraints=c.constraints, tags=c.tags) for c in schema.columns
    ])


def declared_schema(table: str, hints: Mapping[str, Mapping[str, object]]) -> dg.TableSchema:
    """The declared columns of a table (endpoints.py's hints) with their descriptions: the
    asset's column schema before its first load."""
    return dg.TableSchema(columns=[
        dg.TableColumn(name, str(hint.get("data_type", "unknown")), description=column_description(table, name))
        for name, hint in hints.items()
    ])
