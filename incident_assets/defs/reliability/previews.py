"""What the Dagster UI shows of a report table, all taken from its SQL file's header block
(`report_files.ReportTable`): the description, the column schema, the markdown preview and the
headline numbers recorded on each materialization."""

from __future__ import annotations

import math
import re
from functools import cache
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping, Sequence

import dagster as dg

from incident_assets.reliability.report_files import ReportTable, render
from incident_assets.reliability.sql_literals import ReportSqlError
from incident_assets.settings import PROJECT_ROOT, REPORT_SCHEMA

MAX_ROWS = 15
HEADLINE_DIGITS = 2
# the one text column a headline query may have: which month / window its numbers describe; the
# numbers' names stay the same from run to run (`..._last_complete_month`), so Dagster plots them
PERIOD_COLUMN = "period"
METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
INTERNAL_LINK = re.compile(r"\[([^\]]+)\]\(#[^)]*\)")  # [words](#section) -> words
CODE_SPAN = re.compile(r"(`[^`]*`)")


def markdown_text(text: str) -> str:
    """Plain text made safe for Dagster's markdown rendering: `<` and `>` outside code spans are
    escaped, so that words like `<metric>` are shown instead of being taken for HTML tags."""
    parts = CODE_SPAN.split(text)
    return "".join(part if part.startswith("`") else part.replace("<", "\\<").replace(">", "\\>")
                   for part in parts)


@cache
def metric_definitions() -> dict[str, str]:
    """docs/metrics.md's `## <table>` sections by table name; none when the file is not there
    (an image built without docs/)."""
    try:
        text = METRICS_DOC.read_text(encoding="utf-8")
    except OSError:
        return {}
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def asset_description(table: ReportTable) -> str:
    """The header's description, then the table's metric definitions from docs/metrics.md as
    text on the asset's page: a link to the repository's file would lead nowhere from the UI.
    Links between sections of that file become their plain words."""
    description = markdown_text(table.description)
    definitions = metric_definitions().get(table.name)
    if not definitions:
        return description
    definitions = INTERNAL_LINK.sub(r"\1", markdown_text(definitions))
    return f"{description}\n\n**Metric definitions** (docs/metrics.md, section {table.name})\n\n{definitions}"


def column_schema(table: ReportTable, types: Mapping[str, str] | None = None) -> dg.TableSchema:
    """The header's columns with their descriptions; types from the created table when known."""
    types = types or {}
    return dg.TableSchema(columns=[
        dg.TableColumn(name, types.get(name, "unknown"), description=description)
        for name, description in table.columns
    ])


def unbroken(text: str) -> str:
    """A date as one unbreakable word (non-breaking hyphen and space), so that the UI's narrow
    columns never wrap a month into "2026-" / "10"."""
    return text.replace("-", "\u2011").replace(" ", "\u00a0")


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, Decimal)):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return unbroken(value.strftime("%Y-%m-%d %H:%M"))
    if isinstance(value, date):
        return unbroken(value.isoformat()[:7] if value.day == 1 else value.isoformat())
    return str(value).replace("|", "\\|")


def to_markdown(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _fetch(sql_client: Any, query: str) -> tuple[list[str], list[tuple]]:
    with sql_client.execute_query(query) as cursor:
        columns = [d[0] for d in cursor.description]
        return columns, [tuple(r) for r in cursor.fetchall()]


def preview_markdown(sql_client: Any, table: ReportTable, literals: Mapping[str, str],
                     report_schema: str = REPORT_SCHEMA) -> str:
    """The header's preview query as a markdown table of its first rows, saying how many it shows."""
    query = render(table.preview_template, literals, report_schema, name=table.name)
    # the limit goes on the query itself: a subquery's order by need not survive the outer select
    columns, rows = _fetch(sql_client, f"{query}\nlimit {MAX_ROWS}")
    if not rows:
        return f"`{report_schema}.{table.name}` is empty."
    (total,), = _fetch(sql_client, f"select count(*) from ({query}) as preview")[1]
    shown = f"\n\nShowing {len(rows)} of {total} rows of the preview query." if total > len(rows) else ""
    return to_markdown(columns, rows) + shown


def _is_whole(value: int | float | Decimal) -> bool:
    """Counts are ints on every engine (PostgreSQL sums them as numeric with no decimals)."""
    if isinstance(value, Decimal):
        return int(value.as_tuple().exponent) >= 0
    return isinstance(value, int)


def headline_metadata(sql_client: Any, table: ReportTable, literals: Mapping[str, str],
                      report_schema: str = REPORT_SCHEMA) -> dict[str, dg.MetadataValue]:
    """The header's headline query (one row) as metadata: numbers for Dagster's plots, rounded to
    `HEADLINE_DIGITS` decimals for reading (the tables keep full precision), and the `period`
    they describe as text. A NULL (nothing to measure this run) is left out rather than recorded
    as 0."""
    if not table.headline:
        return {}
    query = render(table.headline, literals, report_schema, name=table.name)
    columns, rows = _fetch(sql_client, query)
    if len(rows) != 1:
        raise ReportSqlError(f"{table.name}.sql: the headline query returned {len(rows)} rows instead of one")
    metadata: dict[str, dg.MetadataValue] = {}
    for column, value in zip(columns, rows[0]):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if column == PERIOD_COLUMN:
            metadata[column] = dg.MetadataValue.text(str(value))
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            raise ReportSqlError(f"{table.name}.sql: headline column {column} is not a number ({value!r})")
        metadata[column] = dg.MetadataValue.int(int(value)) if _is_whole(value) else dg.MetadataValue.float(round(float(value), HEADLINE_DIGITS))
    return metadata
