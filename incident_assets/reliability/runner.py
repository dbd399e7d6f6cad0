"""Runs the report SQL files (`sql/<table>.sql`, one SELECT each) inside the destination.

Placeholder syntax, the only one the SQL files may use: `{{ name }}`.
- `{{raw.<table>}}`: a raw table, read through its input view (see `inputs.py`), e.g.
  `{{raw.incidents__milestones}}`. Must be declared in `RAW_INPUTS`.
- `{{report.<table>}}`: another report table, e.g. `{{report.incident_facts}}`.
  These references are also the tables' dependencies (asset deps and run order).
- `{{as_of}}`, `{{excluded_severities}}`, `{{slo_targets}}`, `{{slo_default_target_pct}}`,
  `{{change_window}}`, `{{retrospective_due}}`, `{{timezone}}` (IANA name, for `ts at time zone
  {{timezone}}`, the local wall-clock time), `{{hours_of_week}}` (see `HOURS_OF_WEEK`):
  parameters, rendered by `ReportParams.literals()` as SQL literals from validated, typed values
  (never from raw user strings).
An unknown or malformed placeholder fails the run before any SQL is sent.

Each table is written as `drop table if exists <report>.<t>; create table <report>.<t> as <select>`
in one transaction. The SQL is written to run unchanged on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from incident_assets.incident_api.schedules import DEFAULT_TIMEZONE, checked_timezone
from incident_assets.reliability.inputs import RAW_INPUTS
from incident_assets.settings import RAW_SCHEMA, REPORT_SCHEMA

SQL_DIR = Path(__file__).parent / "sql"
INPUT_SCHEMA = f"{REPORT_SCHEMA}_inputs"

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PLACEHOLDER_BODY = re.compile(r"^\s*(?:(raw|report)\.)?([a-z_][a-z0-9_]*)\s*$")
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")

DEFAULT_EXCLUDED_SEVERITIES = ("GAMEDAY", "MAINTENANCE")
DEFAULT_SLO_TARGETS = {1: 99.95, 2: 99.9}
DEFAULT_SLO_TARGET = 99.5
DEFAULT_CHANGE_WINDOW = timedelta(hours=24)
DEFAULT_RETROSPECTIVE_DUE = timedelta(days=14)


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


def tier_targets_literal(targets: Mapping[int, float]) -> str:
    """A relation (service_tier bigint, slo_target_pct double); the SQL gives it an alias."""
    rows = []
    for tier, target in sorted(targets.items()):
        if not 0 < float(target) < 100:
            raise ReportSqlError(f"SLO target {target!r} for tier {tier!r} must be in (0, 100)")
        rows.append(f"select cast({int(tier)} as bigint) as service_tier, "
                    f"{number_literal(target)} as slo_target_pct")
    if not rows:
        return ("(select cast(null as bigint) as service_tier, "
                "cast(null as double precision) as slo_target_pct where 1 = 0)")
    return "(" + " union all ".join(rows) + ")"


@dataclass(frozen=True)
class ReportParams:
    """The typed parameters of one report run (defaults: reliability-metrics.md)."""

    as_of: datetime
    excluded_severities: tuple[str, ...] = DEFAULT_EXCLUDED_SEVERITIES
    slo_targets: Mapping[int, float] = field(default_factory=lambda: dict(DEFAULT_SLO_TARGETS))
    slo_default_target_pct: float = DEFAULT_SLO_TARGET
    change_window: timedelta = DEFAULT_CHANGE_WINDOW
    retrospective_due: timedelta = DEFAULT_RETROSPECTIVE_DUE
    timezone: str = DEFAULT_TIMEZONE  # of the hours-of-the-day buckets

    def literals(self) -> dict[str, str]:
        if not 0 < float(self.slo_default_target_pct) < 100:
            raise ReportSqlError("slo_default_target_pct must be in (0, 100)")
        return {
            "as_of": timestamp_literal(self.as_of),
            "excluded_severities": slug_list_literal(self.excluded_severities),
            "slo_targets": tier_targets_literal(self.slo_targets),
            "slo_default_target_pct": number_literal(self.slo_default_target_pct),
            "change_window": interval_literal(self.change_window),
            "retrospective_due": interval_literal(self.retrospective_due),
            "timezone": timezone_literal(self.timezone),
            "hours_of_week": HOURS_OF_WEEK,
        }


PARAMETER_NAMES = frozenset(ReportParams(as_of=datetime.now(timezone.utc)).literals())


# --- report tables ----------------------------------------------------------------------

@dataclass(frozen=True)
class ReportTable:
    name: str
    template: str
    raw_inputs: tuple[str, ...]
    report_inputs: tuple[str, ...]

    @property
    def description(self) -> str:
        """The leading `--` comment block of the SQL file."""
        lines = []
        for line in self.template.splitlines():
            if not line.startswith("--"):
                break
            lines.append(line[2:].strip())
        return "\n".join(lines).strip()


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
            if ident != name:  # the header's preview and headline query the table itself
                report.add(ident)
        elif ident not in PARAMETER_NAMES:
            raise ReportSqlError(f"{name}.sql: unknown placeholder {{{{{ident}}}}}")
    stray = PLACEHOLDER.sub("", template)
    if "{{" in stray or "}}" in stray:
        raise ReportSqlError(f"{name}.sql: unbalanced placeholder braces")
    return raw, report


@cache
def report_tables() -> dict[str, ReportTable]:
    """Every `sql/<table>.sql`, in dependency order."""
    loaded = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        name = identifier(path.stem)
        template = path.read_text()
        raw, report = _references(template, name)
        loaded[name] = ReportTable(name, template, tuple(sorted(raw)), tuple(sorted(report)))
    for table in loaded.values():
        unknown = set(table.report_inputs) - loaded.keys()
        if unknown:
            raise ReportSqlError(f"{table.name}.sql reads unknown report tables {sorted(unknown)}")
    order = TopologicalSorter({t.name: t.report_inputs for t in loaded.values()}).static_order()
    return {name: loaded[name] for name in order}


def render(table: ReportTable, literals: Mapping[str, str], report_schema: str = REPORT_SCHEMA,
           input_schema: str = INPUT_SCHEMA) -> str:
    def substitute(match: re.Match[str]) -> str:
        kind, ident = PLACEHOLDER_BODY.match(match.group(1)).groups()  # type: ignore[union-attr]
        if kind == "raw":
            return f"{identifier(input_schema)}.{ident}"
        if kind == "report":
            return f"{identifier(report_schema)}.{ident}"
        if ident not in literals:
            raise ReportSqlError(f"{table.name}.sql: no value for {{{{{ident}}}}}")
        return literals[ident]

    return PLACEHOLDER.sub(substitute, table.template).strip().rstrip(";")


# --- running ----------------------------------------------------------------------------

def _query(sql_client: Any, sql: str) -> list[tuple]:
    return [tuple(r) for r in (sql_client.execute_sql(sql) or [])]


def create_input_views(sql_client: Any, raw_schema: str = RAW_SCHEMA,
                       input_schema: str = INPUT_SCHEMA) -> dict[str, list[str]]:
    """(Re)create one view per `RAW_INPUTS` table; returns what was missing (table → columns).

    Missing tables/columns become typed NULLs, so the reports run on any subset of the data.
    """
    raw_schema, input_schema = identifier(raw_schema), identifier(input_schema)
    present: dict[str, set[str]] = {}
    for table, column in _query(
        sql_client,
        "select table_name, column_name from information_schema.columns "
        f"where table_schema = '{raw_schema}'",
    ):
        present.setdefault(table, set()).add(column)
    missing: dict[str, list[str]] = {}
    with sql_client.begin_transaction():
        sql_client.execute_sql(f"create schema if not exists {input_schema}")
        for table, columns in RAW_INPUTS.items():
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
    name: str
    sql: str
    row_count: int


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
    create_input_views(sql_client)
    sql_client.execute_sql(f"create schema if not exists {report_schema}")
    for table in available.values():
        if table.name not in selected:
            continue
        select = render(table, literals, report_schema)
        qualified = f"{report_schema}.{table.name}"
        with sql_client.begin_transaction():
            sql_client.execute_sql(f"drop table if exists {qualified}")
            sql_client.execute_sql(f"create table {qualified} as\n{select}")
        (count,), = _query(sql_client, f"select count(*) from {qualified}")
        yield TableResult(table.name, select, int(count))
