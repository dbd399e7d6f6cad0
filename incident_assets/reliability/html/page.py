"""Page assembly: every section rendered from the report tables into `templates/page.html.j2`
(Jinja2, autoescaped), and the page written atomically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from incident_assets.reliability.html.parts import Part, Section
from incident_assets.reliability.html.reader import ReportReader
from incident_assets.reliability.html.sections import HEADER_READS, SECTIONS
from incident_assets.settings import REPORT_SCHEMA

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("incident_assets.reliability.html", "templates"),
    autoescape=True,  # every value is text from the destination until a template says otherwise
    undefined=jinja2.StrictUndefined,  # a misspelt name fails the render instead of printing nothing
)
TEMPLATES.filters["thousands"] = lambda n: f"{n:,}"


@dataclass(frozen=True)
class RenderedPage:
    """The page, its section ids in order, and the ids of the sections whose tables are not built."""

    html: str
    sections: list[str]
    not_built: list[str]


@dataclass(frozen=True)
class RenderedSection:
    """What the page template gets of a section: its heading and either its parts or its gaps."""

    id: str
    title: str
    blurb: str
    gaps: list[str]
    body: list[Part]


def render_section(reader: ReportReader, section: Section) -> RenderedSection:
    """A section's parts, or only what is missing when its tables and columns are not all there."""
    gaps = reader.missing(section.reads)
    return RenderedSection(section.id, section.title, section.blurb, gaps, [] if gaps else section.render(reader))


def report_as_of(reader: ReportReader) -> str:
    """The instant the report tables describe, as text for the page header."""
    if gaps := reader.missing(HEADER_READS):
        return f"unknown ({'; '.join(gaps)})"
    as_of = reader.as_of()
    return as_of.strftime("%Y-%m-%d %H:%M UTC") if as_of else "unknown (no incidents loaded)"


def render_html(sql_client: Any) -> RenderedPage:
    """Builds the whole page from the report tables the sql client sees."""
    reader = ReportReader(sql_client)
    sections = [render_section(reader, section) for section in SECTIONS]
    css, _, _ = TEMPLATES.loader.get_source(TEMPLATES, "report.css")  # as is: CSS is not a template
    page = TEMPLATES.get_template("page.html.j2").render(
        css=Markup(css), plotly_js=Markup(get_plotlyjs()), schema=REPORT_SCHEMA, sections=sections,
        as_of=report_as_of(reader), generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    return RenderedPage(page, [s.id for s in sections], [s.id for s in sections if s.gaps])


def write_html_report(sql_client: Any, path: Path) -> RenderedPage:
    """Writes the page (atomically: a viewer never sees half a file) and returns what it holds."""
    page = render_html(sql_client)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page.html, encoding="utf-8")
    tmp.replace(path)
    return page
