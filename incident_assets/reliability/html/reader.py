"""Reading the report tables for the HTML report: rows, which tables and columns exist, as_of,
and the small conversions of database values into chart and table values."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Mapping, Sequence

from incident_assets.destination import schema_columns
from incident_assets.settings import REPORT_SCHEMA

RECENT_MONTHS = 3  # "recent" = the last complete months, the current one is still partial
SEVERITY_NOT_SET = "not set"


def report_table(name: str) -> str:
    """The qualified name of a report table, as a reader would query it."""
    return f"{REPORT_SCHEMA}.{name}"


class ReportReader:
    """Reads the report tables through a dlt sql client and knows which tables and columns exist."""

    def __init__(self, sql_client: Any) -> None:
        self.sql_client = sql_client
        self._columns: dict[str, set[str]] | None = None
        self._as_of: datetime | None = None

    def rows(self, query: str) -> list[dict[str, Any]]:
        """Runs one SELECT and returns its rows as dicts keyed by column name."""
        with self.sql_client.execute_query(query) as cursor:
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def count(self, table: str) -> int:
        """Number of rows of a report table."""
        return int(self.rows(f"select count(*) as n from {report_table(table)}")[0]["n"])

    def as_of(self) -> datetime | None:
        """The instant the report tables describe (incident_facts.as_of) in UTC; None without incidents."""
        if self._as_of is None:
            value = self.rows(f"select max(as_of) as as_of from {report_table('incident_facts')}")[0]["as_of"]
            self._as_of = value and value.astimezone(timezone.utc)
        return self._as_of

    def existing_columns(self) -> dict[str, set[str]]:
        """Columns of every table of the report schema, read once."""
        if self._columns is None:
            found = schema_columns(self.sql_client, REPORT_SCHEMA)
            self._columns = {table: {c for c, _ in columns} for table, columns in found.items()}
        return self._columns

    def missing(self, reads: Mapping[str, Sequence[str]]) -> list[str]:
        """What of `reads` (table -> columns) is absent, one phrase per table; empty when all is there."""
        existing = self.existing_columns()
        gaps = []
        for table, columns in reads.items():
            if table not in existing:
                gaps.append(f"table {report_table(table)} does not exist")
            elif absent := [c for c in columns if c not in existing[table]]:
                gaps.append(f"{report_table(table)} has no column {', '.join(absent)}")
        return gaps


# --- SQL fragments the sections share ----------------------------------------------------------

def severity_sql(column: str) -> str:
    """One category for a missing severity: NULL, the reports' 'none' and the API's own 'UNSET'."""
    return f"case when {column} is null or {column} in ('none', 'UNSET') then '{SEVERITY_NOT_SET}' else {column} end"


def dates_sql(labels: Sequence[str]) -> str:
    """`(date, ...)` for `month in ...`: ISO dates made here (never user text)."""
    return "(" + ", ".join(f"cast('{date.fromisoformat(d).isoformat()}' as date)" for d in labels) + ")"


# --- values -------------------------------------------------------------------------------------

def month_label(value: Any) -> str:
    """A month (a date, or text starting 'YYYY-MM') as the ISO date of its first day."""
    return str(value)[:7] + "-01"


def day_label(value: Any) -> str:
    """A date (or a timestamp) as its ISO date."""
    return str(value)[:10]


def as_float(value: Any) -> float | None:
    """A number from the database as float; NULL stays None."""
    return None if value is None else float(value)


def scaled(value: Any, divisor: float) -> float | None:
    """A duration in seconds in another unit (divisor 60: minutes, 3600: hours); NULL stays None."""
    return None if value is None else float(value) / divisor


def complete_months_before(as_of: datetime, count: int = RECENT_MONTHS) -> list[str]:
    """The `count` calendar months before the month of as_of (that one is still partial), oldest first."""
    index = as_of.year * 12 + as_of.month - 1  # months since year 0
    return [f"{i // 12:04d}-{i % 12 + 1:02d}-01" for i in range(index - count, index)]


def window_label(months: Sequence[str]) -> str:
    """'2024-01 to 2024-03' for a list of month labels."""
    return f"{months[0][:7]} to {months[-1][:7]}"
