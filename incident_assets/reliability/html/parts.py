"""What a section is made of: the section itself (what it reads, how it renders) and the parts of
its body (a chart, a table, a note, the change list), each drawn by a macro of
`templates/parts.html.j2`, where all the HTML is; nothing here writes a tag."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Mapping, Sequence

import plotly.graph_objects as go
from markupsafe import Markup

from incident_assets.reliability.html.charts import chart_html
from incident_assets.reliability.html.reader import ReportReader, day_label, report_table

TABLE_ROWS = 15


@dataclass(frozen=True)
class Chart:
    """A plotly figure drawn in the div `div_id`."""

    fig: go.Figure
    div_id: str
    kind: str = "chart"

    def html(self) -> Markup:
        return Markup(chart_html(self.fig, self.div_id))


@dataclass(frozen=True)
class Note:
    """A paragraph of text with a class (empty, window, ...)."""

    css_class: str
    text: str
    kind: str = "note"


NO_DATA = Note("empty", "No data.")


@dataclass(frozen=True)
class Column:
    """A table column: the row key, its header (with the unit), and how a value is written."""

    key: str
    header: str
    fmt: Callable[[Any], str] = str
    link: str | None = None  # the row key of an http(s) URL the cell links to

    def text(self, row: Mapping[str, Any]) -> str:
        """A cell's text: a dash for a missing value (never 'None' or 'nan')."""
        value = row.get(self.key)
        if value is None or (isinstance(value, float) and value != value):
            return "–"
        if isinstance(value, (date, datetime)) and self.fmt is str:
            return day_label(value)
        return self.fmt(value)

    def url(self, row: Mapping[str, Any]) -> str:
        """The http(s) URL the cell links to, or '' (never a javascript: or other scheme)."""
        url = str(row.get(self.link) or "") if self.link else ""
        return url if url.startswith(("https://", "http://")) else ""


def fixed(digits: int) -> Callable[[Any], str]:
    """Formats a number with `digits` decimals and thousands separators."""
    return lambda v: f"{float(v):,.{digits}f}"


@dataclass(frozen=True)
class Table:
    """Some rows of a report query, the note "showing N of M <noun>" and the table that has them all."""

    rows: Sequence[Mapping[str, Any]]
    columns: Sequence[Column]
    total: int
    noun: str
    full_table: str
    caption: str = ""
    kind: str = "table"

    @property
    def qualified_table(self) -> str:
        return report_table(self.full_table)


@dataclass(frozen=True)
class Changes:
    """The "What changed" body: the period compared, the changed rows as sentences, the verdict counts."""

    recent: str
    baseline: str
    changed: Sequence[tuple[str, str]]  # (verdict, sentence), worse first
    counts: Mapping[str, int]
    kind: str = "changes"


Part = Chart | Note | Table | Changes


@dataclass(frozen=True)
class Section:
    """One part of the page: what it reads (table -> columns) and how it renders from a reader."""

    id: str
    title: str
    blurb: str
    reads: Mapping[str, Sequence[str]]
    render: Callable[[ReportReader], list[Part]] = field(repr=False)
