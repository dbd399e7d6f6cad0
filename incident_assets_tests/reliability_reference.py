"""An independent, pure-Python computation of the headline reliability numbers.

Works on incident dicts as the API serves them (not on the loaded tables) and follows
reliability-metrics.md directly, without sharing anything with the report SQL, so that
comparing the two catches errors in either. Covers incident_facts-level fields, MTTR
p50/p90 per month and severity, and open backlog counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timezone
from typing import Any, Iterable, Optional

EXCLUDED = ("GAMEDAY", "MAINTENANCE")
FIRST = ("started", "detected", "acknowledged", "identified", "mitigated", "postmortem_completed")
RETRO = ("postmortem_started", "postmortem_completed", "closed")


def parse(value: Optional[str]) -> Optional[datetime]:
    if value is None:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def percentile(values: list[float], q: float) -> Optional[float]:
    """Continuous percentile with linear interpolation (percentile_cont)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def month_of(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


def facts(incident: dict[str, Any], as_of: datetime, excluded: Iterable[str] = EXCLUDED) -> dict[str, Any]:
    times: dict[str, list[datetime]] = defaultdict(list)
    for m in incident.get("milestones") or []:
        if m.get("occurred_at"):
            times[m["type"]].append(parse(m["occurred_at"]))
    at = {kind: min(times[kind]) if times[kind] else None for kind in FIRST}
    at["resolved"] = max(times["resolved"]) if times["resolved"] else None
    if at["resolved"] is None:
        retro = [t for kind in RETRO for t in times[kind]]
        at["resolved"] = min(retro) if retro else None
    started = at["started"] or parse(incident.get("started_at")) or parse(incident["created_at"])
    out: dict[str, Any] = {"incident_id": incident["id"], "severity": incident.get("severity"),
                           "started_at": started, "resolved_at": at["resolved"]}
    negative = False

    def since_start(end: Optional[datetime]) -> Optional[float]:
        nonlocal negative
        if end is None:
            return None
        seconds = (end - started).total_seconds()
        if seconds < 0:
            negative = True
            return None
        return seconds

    for metric, kind in (("detect", "detected"), ("acknowledge", "acknowledged"),
                         ("mitigate", "mitigated"), ("resolve", "resolved")):
        out[f"seconds_to_{metric}"] = since_start(at[kind])
        out[f"{kind}_at"] = at[kind]
    out["impact_seconds"] = since_start(at["mitigated"] or at["resolved"])
    out["has_negative_duration"] = negative
    out["is_open"] = at["resolved"] is None
    out["age_seconds"] = (as_of - started).total_seconds() if out["is_open"] else None
    out["is_archived"] = incident.get("discarded_at") is not None
    if out["is_archived"]:
        out["exclusion_reason"] = "archived"
    elif incident.get("severity") in set(excluded):
        out["exclusion_reason"] = f"severity:{incident['severity']}"
    else:
        out["exclusion_reason"] = None
    out["is_reportable"] = out["exclusion_reason"] is None
    return out


def mttr_by_month_and_severity(incidents: Iterable[dict[str, Any]], as_of: datetime,
                               excluded: Iterable[str] = EXCLUDED) -> dict[tuple[date, str], dict[str, Any]]:
    """(month, severity or 'none' or 'all') -> {n, n_missing, p50_seconds, p90_seconds}."""
    groups: dict[tuple[date, str], list[Optional[float]]] = defaultdict(list)
    for incident in incidents:
        f = facts(incident, as_of, excluded)
        if not f["is_reportable"]:
            continue
        month = month_of(f["started_at"])
        for key in (f["severity"] or "none", "all"):
            groups[(month, key)].append(f["seconds_to_resolve"])
    result = {}
    for key, values in groups.items():
        present = [v for v in values if v is not None]
        result[key] = {"n": len(present), "n_missing": len(values) - len(present),
                       "p50_seconds": percentile(present, 0.5), "p90_seconds": percentile(present, 0.9)}
    return result


def open_backlog_counts(incidents: Iterable[dict[str, Any]], as_of: datetime,
                        excluded: Iterable[str] = EXCLUDED) -> dict[str, int]:
    """severity (or 'none') -> open reportable incidents started by as_of; 'all' always present."""
    counts: dict[str, int] = {"all": 0}
    for incident in incidents:
        f = facts(incident, as_of, excluded)
        if f["is_reportable"] and f["is_open"] and f["started_at"] <= as_of:
            severity = f["severity"] or "none"
            counts[severity] = counts.get(severity, 0) + 1
            counts["all"] += 1
    return counts
