"""Each section of the HTML report declares the report columns it reads (`Section.reads`, what
decides "not built" and the asset's dependencies) and writes its SQL once; this test reads the
SQL a section really runs, resolves every column to its table with sqlglot, and asserts that the
declaration is exactly that: nothing the SQL reads is undeclared (a missing column would fail the
page instead of showing "not built"), nothing declared is unread (a stale dependency)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from incident_assets.reliability.html import SECTIONS, ReportReader
from incident_assets.reliability.runner import ReportParams, run_reports
from incident_assets.settings import REPORT_SCHEMA
from incident_assets_tests.reliability_inputs import AS_OF, GOLDEN, loaded_destination
from incident_assets_tests.reliability_inputs_operations import GOLDEN_Q1_ALERTS, GOLDEN_Q1_TICKETS


class RecordingReader(ReportReader):
    """A reader that keeps every query it runs."""

    def __init__(self, sql_client: Any) -> None:
        super().__init__(sql_client)
        self.queries: list[str] = []

    def rows(self, query: str) -> list[dict[str, Any]]:
        self.queries.append(query)
        return super().rows(query)


def columns_read(queries: list[str], schema: dict[str, dict[str, dict[str, str]]]) -> dict[str, set[str]]:
    """table -> the columns the queries read from it (through any alias; derived tables resolved inside)."""
    used: dict[str, set[str]] = defaultdict(set)
    for query in queries:
        tree = qualify(sqlglot.parse_one(query, read="duckdb"), schema=schema, dialect="duckdb")
        for scope in traverse_scope(tree):
            for table in scope.tables:
                used[table.name]  # a table read only by count(*) is still read
            for column in scope.columns:
                source = scope.sources.get(column.table)
                if isinstance(source, exp.Table):
                    used[source.name].add(column.name)
    return dict(used)


@pytest.fixture(scope="module")
def sections_sql(tmp_path_factory) -> dict[str, dict[str, set[str]]]:
    """Per section id: the columns its SQL reads on the golden input, where every section has data."""
    dest = loaded_destination("duckdb", tmp_path_factory.mktemp("html_reads"),
                              {**GOLDEN, "tickets": GOLDEN_Q1_TICKETS, "alerts": GOLDEN_Q1_ALERTS})
    with dest.pipeline().sql_client() as sql:
        list(run_reports(sql, ReportParams(as_of=AS_OF)))
        schema = {REPORT_SCHEMA: {table: {c: "text" for c in columns}
                                  for table, columns in ReportReader(sql).existing_columns().items()}}
        found = {}
        for section in SECTIONS:
            reader = RecordingReader(sql)
            section.render(reader)
            found[section.id] = columns_read(reader.queries, schema)
    return found


@pytest.mark.parametrize("section", SECTIONS, ids=[s.id for s in SECTIONS])
def test_a_section_declares_exactly_the_columns_its_sql_reads(sections_sql, section):
    assert sections_sql[section.id] == {table: set(columns) for table, columns in section.reads.items()}


def test_the_sql_is_really_read(sections_sql):
    # the comparison above sees joins, aliases and subqueries
    assert sections_sql["data-quality"] == {"data_quality_issues": {"problem", "number", "detail", "incident_id"},
                                            "incident_facts": {"name", "incident_url", "incident_id"}}
