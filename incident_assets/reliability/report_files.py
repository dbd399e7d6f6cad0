"""The report SQL files (`sql/<table>.sql`, one SELECT each): their format, parsed into
`ReportTable`, and the rendering of their placeholders.

Placeholder syntax, the only one the SQL files may use: `{{ name }}`.
- `{{raw.<table>}}`: a raw table, read through its input view (see `inputs.py`), e.g.
  `{{raw.incidents__milestones}}`. Must be declared in `RAW_INPUTS`.
- `{{report.<table>}}`: another report table, e.g. `{{report.incident_facts}}`.
  These references are also the tables' dependencies (asset deps and run order).
- `{{as_of}}`, `{{excluded_severities}}`, `{{slo_targets}}`, `{{slo_default_target_pct}}`,
  `{{change_window}}`, `{{retrospective_due}}`, `{{impact_weights}}`, `{{min_change_pct}}`,
  `{{timezone}}` (IANA name, for `ts at time zone {{timezone}}`, the local wall-clock time),
  `{{hours_of_week}}` (see `HOURS_OF_WEEK`): parameters, rendered by `ReportParams.literals()`
  as SQL literals from validated, typed values (never from raw user strings; `params.py`).
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

`runner.py` builds the tables; the SQL is written to run unchanged on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Mapping, Optional

from incident_assets.reliability.inputs import INPUT_SCHEMA, RAW_INPUTS
from incident_assets.reliability.params import PARAMETER_NAMES
from incident_assets.reliability.sql_literals import ReportSqlError, identifier
from incident_assets.settings import REPORT_SCHEMA

SQL_DIR = Path(__file__).parent / "sql"

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
PLACEHOLDER_BODY = re.compile(r"^\s*(?:(raw|report)\.)?([a-z_][a-z0-9_]*)\s*$")
HEADER_SECTIONS = ("columns", "preview", "headline")
COLUMN_LINE = re.compile(r"^(\s+)([a-z_][a-z0-9_]*):\s*(.*)$")


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
