"""Runs the report SQL files (`sql/<table>.sql`, one SELECT each) inside the destination.

Placeholder syntax, the only one the SQL files may use: `{{ name }}`.
- `{{raw.<table>}}`: a raw table, read through its input view (see `inputs.py`), e.g.
  `{{raw.incidents__milestones}}`. Must be declared in `RAW_INPUTS`.
- `{{report.<table>}}`: another report table, e.g. `{{report.incident_facts}}`.
  These references are also the tables' dependencies (asset deps and run order).
- `{{as_of}}`, `{{excluded_severities}}`, `{{slo_targets}}`, `{{slo_default_target_pct}}`,
  `{{change_window}}`, `{{retrospective_due}}`, `{{impact_weights}}`, `{{min_change_pct}}`,
  `{{timezone}}` (IANA name, for `ts at time zone {{timezone}}`, the local wall-clock time),
  `{{hours_of_week}}` (see `HOURS_OF_WEEK`): parameters, rendered by `ReportParams.literals()`
  as SQL literals from validated, typed values (never from raw user strings).
An unknown or malformed placeholder fails the run before any SQL is sent.

Each file starts with a header block of `--` comment lines, the one place that says what the
table is (parsed into `ReportTable`):

    -- <description; paragraphs separated by a bare `--` line>
    --
    -- columns:
    --   <column>: <one-line description; longer text continues on lines indented deeper>
    --
    -- preview:
    --   <query shown as the asset's markdown preview; default: select * from the table>
    --
    -- headline:
    --   <query returning one row of numbers, recorded as numeric metadata per run (rounded to two
    --   decimals), and optionally a text column `period` saying which month or window they describe>

`columns:` is required and lists every column of the result, in order. The preview and
headline queries may use `{{report.<table>}}` and the parameters, not raw tables.

Each table is written as `drop table if exists <report>.<t>; create table <report>.<t> as <select>`
in one transaction. The SQL is written to run unchanged on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional

from incident_assets.destination import report_settings, schema_columns
from incident_assets.settings import DEFAULT_TIMEZONE, checked_timezone
from incident_assets.reliability.inputs import RAW_INPUTS
from incident_assets.settings import RAW_SCHEMA, REPORT_SCHEMA

SQL_DIR = Path(__file__).parent / "sql"
INPUT_SCHEMA = f"{REPORT_SCHEMA}_inputs"

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PLACEHOLDER_BODY = re.compile(r"^\s*(?:(raw|report)\.)?([a-z_][a-z0-9_]*)\s*$")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
HEADER_SECTIONS = ("columns", "preview", "headline")
COLUMN_LINE = re.compile(r"^(\s+)([a-z_][a-z0-9_]*):\s*(.*)$")

DEFAULT_EXCLUDED_SEVERITIES = ("GAMEDAY", "MAINTENANCE")
DEFAULT_SLO_TARGETS = {1: 99.95, 2: 99.9}
DEFAULT_SLO_TARGET = 99.5
DEFAULT_CHANGE_WINDOW = timedelta(hours=24)
DEFAULT_RETROSPECTIVE_DUE = timedelta(days=14)
DEFAULT_MIN_CHANGE_PCT = 20.0  # the smallest move of a median that mttx_change calls worse or better
# downtime weight of an impact condition, by its name trimmed and lower-cased: a full outage
# counts whole, a partial one 30 %, degraded performance not at all (as status pages count uptime)
DEFAULT_IMPACT_WEIGHTS = {"unavailable": 1.0, "partially unavailable": 0.3, "degraded": 0.0, "bug": 0.0,
                          "operational": 0.0}


# The one definition of the hours-of-the-day buckets, a relation (day_of_week: ISO, 1 = Monday;
# hour: 0-23; bucket) that reports join on `extract(isodow / hour from ts at time zone
# {{timezone}})`. Every bucket edge is a whole hour, so the local hour decides the bucket.
HOURS_OF_WEEK = f"""(select d.day_of_week, h.hour,
    case when h.hour < 8 or h.hour >= 22 then 'sleep'
         when d.day_of_week <= 5 and h.hour < 18 then 'business'
         else 'off' end as bucket
    from (values {", ".join(f"({d})" for d in range(1, 8))}) as d (day_of_week)
    cross join (values {", ".join(f"({h})" for h in range(24))}) as h (hour))"""


class ReportSqlError(ValueError):
    """A report SQL file or parameter is invalid (raised before anything runs)."""


# --- literals ---------------------------------------------------------------------------

def identifier(name: str) -> str:
    """`name` if it is a plain lower-case SQL identifier, else ReportSqlError."""
    if not IDENTIFIER.match(name):
        raise ReportSqlError(f"invalid SQL identifier {name!r}")
    return name


def timestamp_literal(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ReportSqlError(f"timestamp {moment!r} has no time zone")
    utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return f"cast('{utc.isoformat(sep=' ')}+00' as timestamp with time zone)"


def number_literal(value: float) -> str:
    value = float(value)
    if not math.isfinite(value):
        raise ReportSqlError(f"number {value!r} is not finite")
    return f"cast({value!r} as double precision)"


def text_literal(text: str) -> str:
    """A quoted SQL string; quotes doubled (both engines read backslashes literally)."""
    if not isinstance(text, str) or "\x00" in text:
        raise ReportSqlError(f"invalid text {text!r}")
    return "cast('" + text.replace("'", "''") + "' as text)"


def interval_literal(span: timedelta) -> str:
    seconds = span.total_seconds()
    if not (math.isfinite(seconds) and seconds > 0):
        raise ReportSqlError(f"interval {span!r} must be positive")
    rendered = str(int(seconds)) if seconds.is_integer() else repr(seconds)
    return f"interval '{rendered} seconds'"


def slug_literal(slug: str) -> str:
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise ReportSqlError(f"invalid slug {slug!r}")
    return f"'{slug}'"


def timezone_literal(name: str) -> str:
    """A quoted IANA time zone name; validated first, so nothing else can reach the SQL."""
    try:
        checked_timezone(name, "timezone")
    except ValueError as e:
        raise ReportSqlError(str(e)) from None
    return "'" + name.replace("'", "''") + "'"


def slug_list_literal(slugs: Iterable[str]) -> str:
    """`(...)` for `x in (...)`; an empty set is `(null)`, which matches nothing."""
    rendered = [slug_literal(s) for s in sorted(set(slugs))]
    return f"({', '.join(rendered)})" if rendered else "(cast(null as text))"


def relation_literal(columns: Mapping[str, str], rows: Iterable[tuple[str, ...]]) -> str:
    """A relation of already rendered literals, typed even when empty; the SQL gives it an alias."""
    selects = ["select " + ", ".join(f"{value} as {name}" for name, value in zip(columns, row)) for row in rows]
    if not selects:
        nulls = ", ".join(f"cast(null as {kind}) as {name}" for name, kind in columns.items())
        return f"(select {nulls} where 1 = 0)"
    return "(" + " union all ".join(selects) + ")"


def tier_targets_literal(targets: Mapping[int, float]) -> str:
    """A relation (service_tier bigint, slo_target_pct double)."""
    for tier, target in targets.items():
        if not 0 < float(target) < 100:
            raise ReportSqlError(f"SLO target {target!r} for tier {tier!r} must be in (0, 100)")
    return relation_literal(
        {"service_tier": "bigint", "slo_target_pct": "double precision"},
        [(f"cast({int(tier)} as bigint)", number_literal(target)) for tier, target in sorted(targets.items())],
    )


def condition_name_key(name: str) -> str:
    """How a condition name is matched: trimmed of spaces and lower-cased (as the SQL does)."""
    return name.strip(" ").lower()


def validated_impact_weights(value: Any, key: str) -> dict[str, float]:
    """The condition weights map from user input: a JSON text or a mapping of condition name to
    a weight in [0, 1]. Names come back trimmed and lower-cased. Anything else raises
    ReportSqlError with one sentence naming `key` (the config key the value came from)."""
    example = 'such as {"unavailable": 1, "partially unavailable": 0.3}'
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise ReportSqlError(f"{key} is not valid JSON ({e}): expected an object of condition name "
                                 f"to weight in [0, 1], {example}.") from None
    if not isinstance(value, Mapping):
        raise ReportSqlError(f"{key} must be an object of condition name to weight in [0, 1], {example}, "
                             f"not {type(value).__name__}.")
    weights: dict[str, float] = {}
    for name, weight in value.items():
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight <= 1:
            raise ReportSqlError(f"{key}: the weight of condition {name!r} must be a number in [0, 1], "
                                 f"not {weight!r}.")
        normalized = condition_name_key(str(name))
        if not normalized or "\x00" in normalized:
            raise ReportSqlError(f"{key}: condition name {name!r} must be a non-empty name.")
        if weights.get(normalized, weight) != weight:
            raise ReportSqlError(f"{key}: condition {name!r} is given two different weights "
                                 f"(names are matched trimmed and case-insensitively).")
        weights[normalized] = float(weight)
    return weights


def impact_weights_literal(weights: Mapping[str, float]) -> str:
    """A relation (condition_name text, weight double): the names already matched as the SQL
    matches them, the weights checked again (in [0, 1])."""
    checked = validated_impact_weights(dict(weights), "impact_weights")
    return relation_literal(
        {"condition_name": "text", "weight": "double precision"},
        [(text_literal(name), number_literal(weight)) for name, weight in sorted(checked.items())],
    )


@dataclass(frozen=True)
class ReportParams:
    """The typed parameters of one report run (defaults: docs/metrics.md)."""

    as_of: datetime
    excluded_severities: tuple[str, ...] = DEFAULT_EXCLUDED_SEVERITIES
    slo_targets: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_SLO_TARGETS))
    slo_default_target_pct: float = DEFAULT_SLO_TARGET
    change_window: timedelta = DEFAULT_CHANGE_WINDOW
    retrospective_due: timedelta = DEFAULT_RETROSPECTIVE_DUE
    timezone: str = DEFAULT_TIMEZONE  # of the hours-of-the-day buckets
    impact_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_IMPACT_WEIGHTS))
    min_change_pct: float = DEFAULT_MIN_CHANGE_PCT

    def literals(self) -> dict[str, str]:
        """Every parameter rendered as a SQL literal (or literal relation), validated."""
        if not 0 < float(self.slo_default_target_pct) < 100:
            raise ReportSqlError("slo_default_target_pct must be in (0, 100)")
        if not (math.isfinite(float(self.min_change_pct)) and float(self.min_change_pct) >= 0):
            raise ReportSqlError(f"min_change_pct must be a percentage >= 0, not {self.min_change_pct!r}")
        return {
            "as_of": timestamp_literal(self.as_of),
            "excluded_severities": slug_list_literal(self.excluded_severities),
            "slo_targets": tier_targets_literal(self.slo_targets),
            "slo_default_target_pct": number_literal(self.slo_default_target_pct),
            "change_window": interval_literal(self.change_window),
            "retrospective_due": interval_literal(self.retrospective_due),
            "timezone": timezone_literal(self.timezone),
            "hours_of_week": HOURS_OF_WEEK,
            "impact_weights": impact_weights_literal(self.impact_weights),
            "min_change_pct": number_literal(self.min_change_pct),
        }


PARAMETER_NAMES = frozenset(ReportParams(as_of=datetime.now(timezone.utc)).literals())


# --- report tables ----------------------------------------------------------------------

@dataclass(frozen=True)
class ReportTable:
    """One `sql/<name>.sql`: its SELECT (`template`), what it reads, and its header block."""

    name: str
    template: str
    raw_inputs: tuple[str, ...]
    report_inputs: tuple[str, ...]
    description: str
    columns: tuple[tuple[str, str], ...]
    preview: Optional[str] = None
    headline: Optional[str] = None

    @property
    def preview_template(self) -> str:
        return self.preview or f"select * from {{{{report.{self.name}}}}}"


def _header_lines(text: str) -> tuple[list[str], str]:
    """The leading `--` lines (prefix and one space removed) and the rest of the file."""
    lines = text.splitlines()
    header = []
    for line in lines:
        if not line.startswith("--"):
            break
        header.append(line[3:] if line.startswith("-- ") else line[2:])
    return header, "\n".join(lines[len(header):])


def _sections(header: list[str], name: str) -> dict[str, list[str]]:
    """`description` (the lines before the first section) and each section's lines."""
    sections: dict[str, list[str]] = {"description": []}
    current = "description"
    for line in header:
        title = line.rstrip()[:-1] if line.rstrip().endswith(":") else None
        if title in HEADER_SECTIONS and not line.startswith(" "):
            if title in sections:
                raise ReportSqlError(f"{name}.sql: header section {title}: appears twice")
            current = title
            sections[current] = []
        else:
            sections[current].append(line)
    return sections


def _description(lines: list[str]) -> str:
    paragraphs, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    return "\n\n".join(paragraphs)


def _columns(lines: list[str], name: str) -> tuple[tuple[str, str], ...]:
    columns: list[list[str]] = []
    indent = None
    for line in lines:
        if not line.strip():
            continue
        match = COLUMN_LINE.match(line)
        if match and (indent is None or len(match.group(1)) == indent):
            indent = len(match.group(1))
            columns.append([match.group(2), match.group(3).strip()])
        elif columns and len(line) - len(line.lstrip()) > indent:
            columns[-1][1] = f"{columns[-1][1]} {line.strip()}"
        else:
            raise ReportSqlError(f"{name}.sql: header line {line.strip()!r} under columns: is not "
                                 "'<column>: <description>' nor a deeper indented continuation")
    if not columns:
        raise ReportSqlError(f"{name}.sql: the header has no columns: section")
    names = [c for c, _ in columns]
    if len(set(names)) != len(names):
        raise ReportSqlError(f"{name}.sql: a column is listed twice under columns:")
    if missing := [c for c, text in columns if not text]:
        raise ReportSqlError(f"{name}.sql: columns {missing} have no description")
    return tuple((c, text) for c, text in columns)


def _section_query(lines: Optional[list[str]]) -> Optional[str]:
    text = "\n".join(line.strip() for line in lines or [] if line.strip())
    return text or None


def _references(template: str, name: str) -> tuple[set[str], set[str]]:
    raw, report = set(), set()
    for body in PLACEHOLDER.findall(template):
        m = PLACEHOLDER_BODY.match(body)
        if not m:
            raise ReportSqlError(f"{name}.sql: malformed placeholder {{{{{body}}}}}")
        kind, ident = m.groups()
        if kind == "raw":
            if ident not in RAW_INPUTS:
                raise ReportSqlError(f"{name}.sql: raw table {ident!r} is not declared in RAW_INPUTS")
            raw.add(ident)
        elif kind == "report":
            report.add(ident)
        elif ident not in PARAMETER_NAMES:
            raise ReportSqlError(f"{name}.sql: unknown placeholder {{{{{ident}}}}}")
    stray = PLACEHOLDER.sub("", template)
    if "{{" in stray or "}}" in stray:
        raise ReportSqlError(f"{name}.sql: unbalanced placeholder braces")
    return raw, report


def parse_report_file(name: str, text: str) -> ReportTable:
    """A `sql/<name>.sql` file: header block (see the module docstring), then one SELECT."""
    header, template = _header_lines(text)
    sections = _sections(header, name)
    if "columns" not in sections:
        raise ReportSqlError(f"{name}.sql: the header has no columns: section")
    description = _description(sections["description"])
    if not description:
        raise ReportSqlError(f"{name}.sql: the header has no description")
    raw, report = _references(template, name)
    table = ReportTable(name, template, tuple(sorted(raw)), tuple(sorted(report)), description,
                        _columns(sections["columns"], name), _section_query(sections.get("preview")),
                        _section_query(sections.get("headline")))
    for query in (table.preview, table.headline):
        if query and _references(query, name)[0]:
            raise ReportSqlError(f"{name}.sql: preview and headline queries read report tables, not raw ones")
    return table


@cache
def report_tables() -> dict[str, ReportTable]:
    """Every `sql/<table>.sql`, in dependency order."""
    loaded = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        name = identifier(path.stem)
        loaded[name] = parse_report_file(name, path.read_text())
    for table in loaded.values():
        shown = set().union(*(_references(q, table.name)[1] for q in (table.preview_template, table.headline) if q))
        unknown = (set(table.report_inputs) | shown) - loaded.keys()
        if unknown:
            raise ReportSqlError(f"{table.name}.sql reads unknown report tables {sorted(unknown)}")
    order = TopologicalSorter({t.name: t.report_inputs for t in loaded.values()}).static_order()
    return {name: loaded[name] for name in order}


def render(template: str, literals: Mapping[str, str], report_schema: str = REPORT_SCHEMA,
           input_schema: str = INPUT_SCHEMA, name: str = "query") -> str:
    """`template` with its placeholders replaced (tables qualified, parameters as literals)."""
    def substitute(match: re.Match[str]) -> str:
        kind, ident = PLACEHOLDER_BODY.match(match.group(1)).groups()  # type: ignore[union-attr]
        if kind == "raw":
            return f"{identifier(input_schema)}.{ident}"
        if kind == "report":
            return f"{identifier(report_schema)}.{ident}"
        if ident not in literals:
            raise ReportSqlError(f"{name}.sql: no value for {{{{{ident}}}}}")
        return literals[ident]

    return PLACEHOLDER.sub(substitute, template).strip().rstrip(";")


# --- running ----------------------------------------------------------------------------

def _query_rows(sql_client: Any, sql: str) -> list[tuple]:
    return [tuple(r) for r in (sql_client.execute_sql(sql) or [])]


def create_input_views(sql_client: Any, raw_schema: str = RAW_SCHEMA,
                       input_schema: str = INPUT_SCHEMA, tables: Optional[Iterable[str]] = None) -> dict[str, list[str]]:
    """(Re)create one view per `RAW_INPUTS` table (or per one of `tables`); returns what was
    missing (table → columns).

    Missing tables/columns become typed NULLs, so the reports run on any subset of the data.
    """
    wanted = set(RAW_INPUTS if tables is None else tables)
    raw_schema, input_schema = identifier(raw_schema), identifier(input_schema)
    present = {table: {c for c, _ in columns} for table, columns in schema_columns(sql_client, raw_schema).items()}
    missing: dict[str, list[str]] = {}
    with sql_client.begin_transaction():
        sql_client.execute_sql(f"create schema if not exists {input_schema}")
        for table, columns in RAW_INPUTS.items():
            if table not in wanted:
                continue
            have = present.get(table, set())
            select = ", ".join(
                f'cast("{c}" as {t}) as "{c}"' if c in have else f'cast(null as {t}) as "{c}"'
                for c, t in columns.items()
            )
            source = f" from {raw_schema}.{table}" if have else " where 1 = 0"
            if absent := [c for c in columns if c not in have]:
                missing[table] = absent
            sql_client.execute_sql(f"drop view if exists {input_schema}.{table}")
            sql_client.execute_sql(f"create view {input_schema}.{table} as select {select}{source}")
    return missing


@dataclass(frozen=True)
class TableResult:
    """One built table: the SQL that built it, its rows and columns (name, type) as created."""

    name: str
    sql: str
    row_count: int
    columns: tuple[tuple[str, str], ...] = ()


def run_reports(sql_client: Any, params: ReportParams, tables: Iterable[str] | None = None,
                report_schema: str = REPORT_SCHEMA) -> Iterator[TableResult]:
    """Builds the selected tables (default: all) in dependency order over one connection.

    A selected table whose inputs are not selected reads their current contents.
    """
    available = report_tables()
    selected = set(available if tables is None else tables)
    if unknown := selected - available.keys():
        raise ReportSqlError(f"unknown report tables {sorted(unknown)}")
    literals = params.literals()
    report_schema = identifier(report_schema)
    # the views the selected tables read (a report step refreshes only its own)
    create_input_views(sql_client, tables={t for name in selected for t in available[name].raw_inputs})
    sql_client.execute_sql(f"create schema if not exists {report_schema}")
    with report_settings(sql_client):
        for table in available.values():
            if table.name not in selected:
                continue
            select = render(table.template, literals, report_schema, name=table.name)
            qualified = f"{report_schema}.{table.name}"
            with sql_client.begin_transaction():
                sql_client.execute_sql(f"drop table if exists {qualified}")
                sql_client.execute_sql(f"create table {qualified} as\n{select}")
            (count,), = _query_rows(sql_client, f"select count(*) from {qualified}")
            columns = schema_columns(sql_client, report_schema, table.name).get(table.name, [])
            yield TableResult(table.name, select, int(count), tuple(columns))
