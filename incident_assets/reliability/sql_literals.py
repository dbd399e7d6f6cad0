"""SQL literals rendered from validated, typed values: the only way a report parameter reaches
the report SQL (never a raw user string). Each renders the same text on DuckDB and PostgreSQL."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from typing import Iterable, Mapping

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class ReportSqlError(ValueError):
    """A report SQL file or parameter is invalid (raised before anything runs)."""


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
    """A quoted time zone name (validated as an IANA zone by `ReportParams`)."""
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
