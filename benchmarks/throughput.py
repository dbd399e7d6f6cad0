"""Throughput per endpoint, seen from the server: the simulator's request log of one run.

Every variant is timed on the same clock, the server's, with the same definition, so a slow
endpoint cannot hide behind a fast one in the totals: an endpoint's seconds are the mean
interval between the arrivals of its pages times its page count (the span from its first
request to its last, plus one interval for the last page). An endpoint served in one page has
no interval, hence no rate. The project fetches endpoints concurrently, the plain loader one
after another: a project endpoint's rate is what it got while sharing the process.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Optional

from incident_assets.incident_api.endpoints import ENDPOINTS

# server path -> endpoint (asset) name, e.g. /v1/changes/events -> change_events
ENDPOINT_OF_PATH = {f"/v1/{e.path}": e.name for e in ENDPOINTS}
REFUSED = 429


class RequestLog:
    """The simulator's `--request-log` file, read in slices: one slice per measured run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def mark(self) -> int:
        """Where the next run's requests start."""
        return len(self.entries())

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines()[since:]]


def refused(entries: Iterable[dict[str, Any]]) -> int:
    return sum(e["status"] == REFUSED for e in entries)


def is_probe(entry: dict[str, Any]) -> bool:
    """A one-record question (`per_page=1`: the project's check of how the API reads
    `archived=true`), not a page of the endpoint's data."""
    per_page = entry.get("query", {}).get("per_page")
    return (per_page[0] if isinstance(per_page, list) else per_page) == "1"


def endpoint_rates(entries: list[dict[str, Any]], records: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per endpoint: records (the loaded root table's rows), pages served, seconds and
    records/s (None for a one-page endpoint), requests refused."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    refusals: dict[str, int] = defaultdict(int)
    for entry in entries:
        name = ENDPOINT_OF_PATH.get(entry["path"])
        if name is None:
            continue
        if entry["status"] == REFUSED:
            refusals[name] += 1
        elif not is_probe(entry):
            arrivals[name].append(entry["time"])
    out = {}
    for endpoint in ENDPOINTS:
        times = sorted(arrivals.get(endpoint.name, ()))
        pages = len(times)
        seconds = (times[-1] - times[0]) * pages / (pages - 1) if pages > 1 else None
        count = records.get(endpoint.name, 0)
        out[endpoint.name] = {
            "records": count, "pages": pages, "seconds": seconds,
            "records_per_s": count / seconds if seconds else None,
            "refused_429": refusals.get(endpoint.name, 0),
        }
    return out


def median_rates(runs: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The run with the median seconds, per endpoint (records and pages are the same in every run)."""
    out = {}
    for name in runs[0] if runs else ():
        timed = sorted((r[name] for r in runs if r[name]["seconds"] is not None), key=lambda r: r["seconds"])
        out[name] = timed[(len(timed) - 1) // 2] if timed else runs[0][name]
    return out


def total_rate(records: dict[str, int], seconds: float) -> Optional[float]:
    """Root records of every endpoint per second of the whole run."""
    total = sum(records.get(e.name, 0) for e in ENDPOINTS)
    return total / seconds if seconds else None


def _rate(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:,.0f}"


def endpoint_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one line per endpoint and ingestion size, the plain loader's and the
    project's records/s side by side, and the totals of the whole run."""
    lines = ["| incidents | endpoint | records | pages | plain loader records/s | project records/s "
             "| project / plain time |", "|" + "---|" * 7]
    for row in (r for r in rows if r.get("endpoints") and r["kind"] == "ingest"):
        for name, both in row["endpoints"].items():
            plain, project = both["plain"], both["project"]
            ratio = (project["seconds"] / plain["seconds"]
                     if project["seconds"] and plain["seconds"] else None)
            lines.append(f"| {row['size']:,} | {name} | {project['records']:,} | {project['pages']} | "
                         f"{_rate(plain['records_per_s'])} | {_rate(project['records_per_s'])} | "
                         f"{'—' if ratio is None else f'{ratio:.2f}x'} |")
        lines.append(f"| {row['size']:,} | **all, whole run** | {row['records']:,} | "
                     f"{sum(e['project']['pages'] for e in row['endpoints'].values())} | "
                     f"{_rate(row['plain_records_per_s'])} | {_rate(row['project_records_per_s'])} | "
                     f"{row['ratio']:.2f}x |")
    return "\n".join(lines)
